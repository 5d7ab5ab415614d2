/**
 * How a release reads in the Temporal Web UI: a one-line summary on every child workflow, activity and
 * timer the workflows start ("eu-west: wait for rollout"), and the workflows' current details (markdown,
 * what the release or region is doing now). Summaries are user metadata: the server stores them with the
 * command, replay does not compare them (replay.test.ts replays histories recorded before them).
 */
import { formatDuration } from '../domain/duration';
import type { RegionInput, ReleaseRef } from '../domain/release-input';
import { isTerminalRegionPhase, type RegionStatus, type ReleaseStatus } from '../domain/release-status';

/** A region's step as its timeline row reads: `eu-west: deploy 2.4.0`. */
export function regionStep(region: string, step: string): string {
  return `${region}: ${step}`;
}

/** The child workflow of a region in the release's timeline: `eu-west: deploy 2.4.0 (wave 3)`, `, attempt 2` on a retry. */
export function regionChildSummary(input: Pick<RegionInput, 'release' | 'region' | 'wave' | 'attempt'>): string {
  const attempt = input.attempt > 1 ? `, attempt ${input.attempt}` : '';
  return regionStep(input.region.name, `deploy ${input.release.version} (wave ${input.wave}${attempt})`);
}

/** What the region's child workflow was started with, for its page in the Web UI. */
export function regionChildDetails(input: RegionInput): string {
  const { release, region } = input;
  const image = `${region.registry}/${release.image.name}:${release.image.tag}${release.image.digest ? `@${release.image.digest}` : ''}`;
  return [
    `**${release.app} ${release.version}** in **${region.name}** (release \`${release.releaseId}\`, wave ${input.wave}, attempt ${input.attempt})`,
    '',
    `- cluster: \`${region.cluster.context}\`, namespace \`${region.cluster.namespace}\``,
    `- image: \`${image}\``,
    `- bake: ${input.bakeMs > 0 ? formatDuration(input.bakeMs) : 'none'}${input.analysis ? `, health measured every ${formatDuration(input.analysis.interval)}` : ''}`,
    `- on failure: ${input.onFailure}`,
  ].join('\n');
}

/** The image step of a registry: copied there by Meridian, or waited for where the registry replicates itself. */
export function imageStep(image: ReleaseRef['image'], registry: string): string {
  const ref = `${image.name}:${image.tag}`;
  if (registry === image.source) return `verify ${ref} in its source registry ${registry}`;
  return (image.replication?.mode ?? 'copy') === 'copy'
    ? `copy ${ref} to registry ${registry}`
    : `wait for ${ref} to replicate to ${registry}`;
}

/** The release's current details: phase, wave, regions in flight, what it waits for. */
export function releaseDetails(status: ReleaseStatus): string {
  const inFlight = status.regions.filter((r) => !isTerminalRegionPhase(r.phase) && r.phase !== 'Pending');
  const done = status.regions.filter((r) => r.phase === 'Succeeded').length;
  const lines = [
    `**${status.phase}**${status.paused && status.phase !== 'Paused' ? ' (paused)' : ''}: ${status.app} ${status.version}, wave ${status.wave} of ${status.waves.length}, ${done} of ${status.regions.length} regions done`,
  ];
  if (status.waitingFor) lines.push('', `Waiting for ${status.waitingFor}${untilText(status.until)}`);
  if (status.reason) lines.push('', `Reason: ${status.reason}`);
  if (inFlight.length > 0) {
    lines.push('', 'In flight:');
    for (const r of inFlight) lines.push(`- ${describeRegion(r)}`);
  }
  const failed = status.regions.filter((r) => ['Failed', 'RolledBack', 'Inconclusive'].includes(r.phase));
  if (failed.length > 0) {
    lines.push('', 'Not released:');
    for (const r of failed) lines.push(`- ${describeRegion(r)}`);
  }
  const copying = (status.registries ?? []).filter((r) => r.phase !== 'Ready');
  if (copying.length > 0) {
    lines.push('', 'Images:');
    for (const r of copying) lines.push(`- ${r.registry}: ${r.phase}${r.detail ? ` (${r.detail})` : ''}`);
  }
  return lines.join('\n');
}

/** A region's current details: its phase and what it waits for. */
export function regionDetails(status: RegionStatus, release: Pick<ReleaseRef, 'app' | 'version'>): string {
  const lines = [
    `**${status.phase}**: ${release.app} ${release.version} in ${status.name}, wave ${status.wave}, attempt ${status.attempts}`,
  ];
  if (status.waitingFor) lines.push('', `Waiting for ${status.waitingFor}${untilText(status.until)}`);
  if (status.analysis) {
    const a = status.analysis;
    lines.push(
      '',
      `Bake analysis: ${a.verdict}, ${a.passed} passed, ${a.failed} failed, ${a.inconclusive} inconclusive measurements`,
    );
  }
  if (status.error) lines.push('', `Error: ${status.error}`);
  return lines.join('\n');
}

function describeRegion(r: RegionStatus): string {
  const wait = r.waitingFor ? `, waiting for ${r.waitingFor}` : '';
  const error = r.error ? `: ${r.error}` : '';
  return `${r.name} (wave ${r.wave}): ${r.phase}${r.attempts > 1 ? `, attempt ${r.attempts}` : ''}${wait}${error}`;
}

function untilText(until: string | undefined): string {
  return until ? ` (until ${until})` : '';
}
