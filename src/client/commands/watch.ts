import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { isTerminalReleasePhase, type ReleaseStatus } from '../../domain/release-status';
import type { CommandContext } from '../command';
import { awaitRelease, queryStatus } from '../release-handle';
import { formatStatus } from '../status-view';
import { connectClient } from '../temporal';

/** Lines describing what changed between two looks at a release. */
export function describeChanges(before: ReleaseStatus | undefined, after: ReleaseStatus): string[] {
  const lines: string[] = [];
  if (
    !before ||
    before.phase !== after.phase ||
    before.paused !== after.paused ||
    before.waitingFor !== after.waitingFor
  ) {
    lines.push(
      `release ${after.phase}${after.paused ? ' (paused)' : ''}${after.waitingFor ? `: waiting for ${after.waitingFor}` : ''}`,
    );
  }
  if (!before || before.wave !== after.wave)
    if (after.wave > 0)
      lines.push(`wave ${after.wave}/${after.waves.length}: ${after.waves[after.wave - 1].regions.join(', ')}`);
  for (const region of after.regions) {
    const prev = before?.regions.find((r) => r.name === region.name);
    if (prev && prev.phase === region.phase && prev.waitingFor === region.waitingFor) continue;
    if (!prev && region.phase === 'Pending') continue;
    const extra = [
      region.waitingFor && `waiting for ${region.waitingFor}`,
      region.until && `until ${region.until}`,
      region.error,
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(`  ${region.name}: ${region.phase}${extra ? ` (${extra})` : ''}`);
  }
  return lines;
}

/** Prints progress until the release ends; returns the exit code (0 succeeded, 1 failed or aborted). */
export async function watchRelease(
  client: Client,
  releaseId: string,
  ctx: CommandContext,
  options: { intervalMs?: number; onStatus?: (status: ReleaseStatus) => Promise<void> } = {},
): Promise<number> {
  const intervalMs = options.intervalMs ?? 1_000;
  let last: ReleaseStatus | undefined;
  for (;;) {
    const status = await queryStatus(client, releaseId);
    for (const line of describeChanges(last, status)) ctx.out(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
    last = status;
    await options.onStatus?.(status);
    if (isTerminalReleasePhase(status.phase)) break;
    await sleep(intervalMs);
  }
  const { status, succeeded } = await awaitRelease(client, releaseId);
  ctx.out(formatStatus(status));
  return succeeded ? 0 : 1;
}

/** `meridian watch <id>`: live progress until the release ends. */
export async function watchCommand(_options: object, [releaseId]: string[], ctx: CommandContext): Promise<number> {
  const { client, close } = await connectClient(ctx.env);
  try {
    return await watchRelease(client, releaseId, ctx);
  } finally {
    await close();
  }
}
