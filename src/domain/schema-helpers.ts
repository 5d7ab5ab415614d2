import { z } from 'zod';
import { checkDuration, durationHint, maxDurationMs } from './duration';

/**
 * A duration field: accepts `30s`-style strings and yields milliseconds, at most `maxMs` (30 days unless
 * the field says otherwise), so that no duration is ever Infinity or beyond what a timer can wait.
 */
export const durationField = (maxMs: number = maxDurationMs) =>
  z.string({ error: durationHint }).transform((text, ctx) => {
    const ms = checkDuration(text, maxMs);
    if (typeof ms === 'string') {
      ctx.addIssue({ code: 'custom', message: ms });
      return z.NEVER;
    }
    return ms;
  });

/** A DNS label (RFC 1123, lowercase): what names a region, a namespace or an app, such as eu-west. */
export const dnsLabel = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
    'expected lowercase letters, digits and dashes (a DNS label), such as eu-west',
  );
