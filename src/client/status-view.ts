import type { ReleaseStatus } from '../domain/release-status';

/** A release's status for a terminal: the phase and wave, then one line per region. */
export function formatStatus(status: ReleaseStatus): string {
  const head = `${status.releaseId}  ${status.phase}${status.paused ? ' (paused)' : ''}  wave ${status.wave}/${status.waves.length}`;
  const lines = [head];
  if (status.waitingFor) lines.push(`  waiting for ${status.waitingFor}${status.until ? ` until ${status.until}` : ''}`);
  if (status.reason) lines.push(`  reason: ${status.reason}`);
  const width = Math.max(...status.regions.map((r) => r.name.length));
  for (const r of status.regions) {
    const detail = [r.waitingFor && `waiting for ${r.waitingFor}`, r.until && `until ${r.until}`, r.error && `error: ${r.error}`].filter(Boolean).join(', ');
    lines.push(`  ${String(r.wave).padStart(2)}  ${r.name.padEnd(width)}  ${r.phase.padEnd(11)}${detail ? `  ${detail}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
