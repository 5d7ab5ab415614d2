import type { AnalysisTally } from '../domain/bake-analysis';
import { formatMs } from '../domain/load-gates';
import type { LoadReport } from '../domain/load-report';
import type { RegionTrafficStatus, ReleaseStatus } from '../domain/release-status';

/** A release's status for a terminal: the phase and wave, then one line per region, with its proofs. */
export function formatStatus(status: ReleaseStatus): string {
  const head = `${status.releaseId}  ${status.phase}${status.paused && status.phase !== 'Paused' ? ' (paused)' : ''}  wave ${status.wave}/${status.waves.length}`;
  const lines = [head];
  if (status.waitingFor)
    lines.push(`  waiting for ${status.waitingFor}${status.until ? ` until ${status.until}` : ''}`);
  if (status.reason) lines.push(`  reason: ${status.reason}`);
  for (const r of status.registries ?? []) {
    lines.push(
      `  image in ${r.registry}: ${r.phase}${r.digest ? ` ${r.digest.slice(0, 19)}` : ''}${r.detail ? ` (${r.detail})` : ''}`,
    );
  }
  const width = Math.max(...status.regions.map((r) => r.name.length));
  // By wave, as amendments may have moved or added regions; within a wave, in plan order.
  const byWave = [...status.regions].sort((a, b) => a.wave - b.wave);
  for (const r of byWave) {
    const detail = [
      r.waitingFor && `waiting for ${r.waitingFor}`,
      r.until && `until ${r.until}`,
      r.error && `error: ${r.error}`,
      r.note && printable(r.note),
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(
      `  ${String(r.wave).padStart(2)}  ${r.name.padEnd(width)}  ${r.phase.padEnd(11)}${detail ? `  ${detail}` : ''}`,
    );
    const indent = ' '.repeat(8 + width);
    if (r.load) lines.push(...formatLoad(r.load).map((l) => `${indent}${l}`));
    if (r.analysis) lines.push(`${indent}${formatAnalysis(r.analysis)}`);
    if (r.traffic) lines.push(`${indent}${formatTraffic(r.traffic)}`);
  }
  if (status.actions.length > 0) {
    lines.push('  operator actions:');
    for (const a of status.actions)
      lines.push(
        `    ${a.at}  ${printable(a.by)}  ${printable(a.action)}${a.reason ? `: ${printable(a.reason)}` : ''}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** A region's part in its hostname's answers in one line: `traffic shop.example.test: 10% of its users (ramping ...)`. */
export function formatTraffic(t: RegionTrafficStatus): string {
  const share =
    t.mode === 'drained'
      ? 'drained'
      : t.mode === 'in'
        ? 'all its users'
        : `${Math.round(t.share * 1000) / 10}% of its users`;
  return `traffic ${t.hostname}: ${share} (${printable(t.reason)})`;
}

/** A load report in a few lines: the figures, then each gate, then the notes. */
export function formatLoad(load: LoadReport): string[] {
  const f = load.figures;
  const resources = [
    load.resources?.cpuCores &&
      `cpu ${load.resources.cpuCores.mean.toFixed(2)} cores (peak ${load.resources.cpuCores.max.toFixed(2)})`,
    load.resources?.memoryBytes && `memory peak ${Math.round(load.resources.memoryBytes.max / 2 ** 20)} MiB`,
  ].filter(Boolean);
  return [
    `load test ${load.passed ? 'passed' : 'FAILED'}: ${f.requests} requests, ${f.throughputRps.toFixed(0)}/s of ${f.targetRps}/s, errors ${(f.errorRate * 100).toFixed(2)}%, ` +
      `p50 ${formatMs(f.latencyMs.p50)} p90 ${formatMs(f.latencyMs.p90)} p99 ${formatMs(f.latencyMs.p99)} max ${formatMs(f.latencyMs.max)}${resources.length ? `, ${resources.join(', ')}` : ''}`,
    ...load.gates.map((g) => `  ${g.passed ? 'ok  ' : 'FAIL'} ${g.gate}: ${g.detail}`),
    ...load.notes.map((n) => `  note: ${n}`),
  ];
}

/** A bake's analysis in one line: counts, and the verdict with its reason once decided. */
export function formatAnalysis(a: AnalysisTally): string {
  const counts = `${a.measurements} measurements: ${a.passed} passed, ${a.failed} failed, ${a.inconclusive} inconclusive`;
  const requests = a.requests !== undefined ? `, ${Math.round(a.requests)} requests` : '';
  return `health analysis ${a.verdict}: ${counts}${requests}${a.reason && a.verdict !== 'running' ? ` (${a.reason})` : ''}`;
}

/**
 * Operator text as a terminal shows it: control characters and bidirectional overrides escaped, so that
 * a reason recorded before the workflows refused them (or by a release started before) cannot repaint the screen.
 */
export function printable(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`,
  );
}
