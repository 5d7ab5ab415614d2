import { Context } from '@temporalio/activity';

/**
 * How often a long step heartbeats while it works: well under the 20 s heartbeat timeout of its proxy
 * profile (src/workflows/activity-proxies.ts), so that only a worker that is gone misses it.
 */
export const heartbeatEveryMs = 5_000;

/**
 * Runs an activity's work heartbeating every `everyMs` with the latest details it reported through
 * `beat`, including while it waits on a slow call, a sleep or a retry of its own. A step whose worker is
 * killed stops heartbeating, and Temporal hands it to another worker after the heartbeat timeout.
 */
export async function heartbeating<T>(
  work: (beat: (details?: unknown) => void) => Promise<T>,
  everyMs = heartbeatEveryMs,
): Promise<T> {
  const ctx = Context.current();
  let latest: unknown;
  const beat = (details?: unknown) => {
    latest = details;
    ctx.heartbeat(details);
  };
  // At once, carrying what an earlier attempt reported: a worker killed before the first progress loses nothing.
  beat(ctx.info.heartbeatDetails);
  const timer = setInterval(() => ctx.heartbeat(latest), everyMs);
  try {
    return await work(beat);
  } finally {
    clearInterval(timer);
  }
}
