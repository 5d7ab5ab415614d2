import { MockActivityEnvironment } from '@temporalio/testing';
import { heartbeating } from '../../src/activities/heartbeats';

describe('heartbeating', () => {
  it('heartbeats at once with what an earlier attempt reported, then on an interval with the latest details, also while the work waits', async () => {
    const env = new MockActivityEnvironment({ heartbeatDetails: { sent: 40 } });
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => beats.push(details));
    const result = await env.run(() =>
      heartbeating(async (beat) => {
        await new Promise((r) => setTimeout(r, 130)); // a slow call that reports nothing
        beat({ sent: 50 });
        await new Promise((r) => setTimeout(r, 130));
        return 'done';
      }, 50),
    );
    expect(result).toBe('done');
    expect(beats[0]).toEqual({ sent: 40 });
    const afterProgress = beats.slice(beats.findIndex((b) => (b as { sent?: number })?.sent === 50));
    // Two interval beats at least in each 130 ms stretch; after the progress, the interval repeats it.
    expect(beats.length).toBeGreaterThanOrEqual(5);
    expect(afterProgress.length).toBeGreaterThanOrEqual(3);
    expect(afterProgress.every((b) => (b as { sent?: number }).sent === 50)).toBe(true);
  });

  it('stops heartbeating when the work ends, also when it throws', async () => {
    const env = new MockActivityEnvironment();
    let beats = 0;
    env.on('heartbeat', () => beats++);
    await expect(
      env.run(() => heartbeating(async () => Promise.reject(new Error('cluster did not answer')), 20)),
    ).rejects.toThrow('cluster did not answer');
    const after = beats;
    await new Promise((r) => setTimeout(r, 80));
    expect(beats).toBe(after);
  });
});
