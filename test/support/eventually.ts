/**
 * The one way tests wait for something in real time: poll `check` until it returns a value other than
 * undefined. `check` gets `saw`, which records what it read (and hands it back), so a timeout says what
 * was awaited, what was seen last and the last error `check` threw.
 */
export async function eventually<T>(
  check: (saw: <V>(observed: V) => V) => Promise<T | undefined>,
  what: string,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let seen: { value: unknown } | undefined;
  let failed: unknown;
  const saw = <V>(observed: V): V => {
    seen = { value: observed };
    return observed;
  };
  for (;;) {
    try {
      const value = await check(saw);
      if (value !== undefined) return value;
    } catch (err) {
      failed = err;
    }
    if (Date.now() > deadline) {
      const lastSeen = seen ? `; last seen: ${JSON.stringify(seen.value)}` : '';
      const lastError = failed ? `; last error: ${failed instanceof Error ? failed.message : String(failed)}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastSeen}${lastError}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
