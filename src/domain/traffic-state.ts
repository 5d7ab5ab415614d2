import { z } from 'zod';
import { trafficModes } from './traffic-policy';

/**
 * A region's traffic state as a provider reads it back from where it keeps it (a TXT record, zone
 * metadata): bounded and strict, so that anything else counts as not written by Meridian. Its own
 * module so that the workflow code, which imports traffic-policy, never bundles zod.
 */
export const recordedTrafficSchema = z
  .object({
    mode: z.enum(trafficModes),
    share: z.number().min(0).max(1),
    by: z.string().max(200),
    reason: z.string().max(1000),
    at: z.string().max(40),
    release: z.string().max(300).optional(),
  })
  .strict();
