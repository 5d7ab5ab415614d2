import { z } from 'zod';
import { durationHint, parseDuration } from './duration';

/** A duration field: accepts `30s`-style strings and yields milliseconds. */
export const durationField = () =>
  z.string({ error: durationHint }).transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `${durationHint}, got ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    return ms;
  });
