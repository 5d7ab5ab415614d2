import type { RegionSpec } from './release-spec';
import { isTerminalRegionPhase, isTerminalReleasePhase, type RegionStatus, type ReleasePhase } from './release-status';
import { traitsOf } from './trait-plan';

/**
 * Amending a release in flight: skip a region, retry a failed one, add one, or move one to a later
 * wave. Pure: the release workflow asks `planAmendment` in an update's validator (a refusal is the
 * caller's error message) and again in its handler, then applies the effect. A change must keep the
 * plan's rules: the canary and staging regions stay where they are, nothing that has started moves,
 * pins (first, last, after) still hold, and a trait-ordered plan runs no region in a parallel wave
 * before its traits have been exercised.
 */

export type Amendment =
  | { kind: 'skip'; region: string }
  | { kind: 'retry'; region: string }
  | { kind: 'move'; region: string; toWave: number }
  | { kind: 'add'; region: RegionSpec; toWave?: number };

/** What an accepted amendment does. `none`: it already holds (asking twice is harmless). */
export type AmendmentEffect =
  | { kind: 'none'; region: string }
  /** The region will not go; `rollBack` when it failed and was left as it is. */
  | { kind: 'skip'; region: string; rollBack: boolean }
  /** The release is halted on this region: run it again now. */
  | { kind: 'retry-now'; region: string }
  /** Back in the plan, pending, in this wave (1-based; one past the last makes a new wave). */
  | { kind: 'requeue'; region: string; toWave: number }
  | { kind: 'move'; region: string; toWave: number }
  | { kind: 'add'; region: RegionSpec; toWave: number };

/** What an amendment is judged against: the release's status and its regions' specs. */
export interface AmendableRelease {
  phase: ReleasePhase;
  /** Current wave, 1-based (0 before the first). */
  wave: number;
  waves: { regions: string[] }[];
  regions: Pick<RegionStatus, 'name' | 'wave' | 'phase'>[];
  specs: ReadonlyMap<string, RegionSpec>;
  /** Regions whose failure the release is halted on. */
  haltedOn: readonly string[];
  /** The plan was ordered by traits: parallel waves must not bring traits no earlier wave exercised. */
  byTraits: boolean;
  /** The release is ending (aborted, or failed and rolling back): its plan no longer changes. */
  ending?: 'aborted' | 'failed';
}

export class AmendmentRefused extends Error {
  override name = 'AmendmentRefused';
}

const refuse = (message: string): never => {
  throw new AmendmentRefused(message);
};

/** The first wave (1-based) that has not started: regions may still join it or leave it. */
export function firstOpenWave(release: Pick<AmendableRelease, 'phase' | 'wave'>): number {
  // At an approval gate the current wave has not started yet; otherwise it has.
  return release.phase === 'WaitingForApproval' || release.phase === 'Pending'
    ? Math.max(1, release.wave)
    : release.wave + 1;
}

/** The effect of an amendment on the release as it is, or AmendmentRefused saying why not and what to do instead. */
export function planAmendment(release: AmendableRelease, amendment: Amendment): AmendmentEffect {
  if (isTerminalReleasePhase(release.phase)) refuse(`the release already ended ${release.phase}`);
  if (release.ending) refuse(`the release is ending (${release.ending}): its plan no longer changes`);
  const effect =
    amendment.kind === 'add' ? planAdd(release, amendment.region, amendment.toWave) : planChange(release, amendment);
  if (effect.kind !== 'none' && effect.kind !== 'retry-now') {
    const broken = newViolations(release, effect);
    if (broken.length > 0) refuse(broken.join('; '));
  }
  return effect;
}

function planChange(release: AmendableRelease, amendment: Exclude<Amendment, { kind: 'add' }>): AmendmentEffect {
  const name = amendment.region;
  const region = release.regions.find((r) => r.name === name);
  if (!region)
    return refuse(
      `${name} is not in this release (its regions: ${release.regions.map((r) => r.name).join(', ')}); add-region brings a new one in`,
    );
  const spec = release.specs.get(name)!;
  const open = firstOpenWave(release);
  const inFlight = region.phase !== 'Pending' && !isTerminalRegionPhase(region.phase);
  if (inFlight) refuse(`${name} is in flight (${region.phase}): wait until it ends, or abort the release`);
  if (region.phase === 'Inconclusive')
    refuse(`${name}'s bake was inconclusive: approve accepts it, resume bakes it again, abort rolls it back`);
  const fixed = spec.canary ? 'the canary' : spec.role === 'staging' ? 'a staging region' : undefined;

  switch (amendment.kind) {
    case 'skip': {
      if (region.phase === 'Skipped') return { kind: 'none', region: name };
      if (fixed) refuse(`${name} is ${fixed}: every release goes through it first; abort the release instead`);
      if (region.phase === 'Succeeded')
        refuse(`${name} already runs the release: there is nothing to skip (abort rolls every region back)`);
      return { kind: 'skip', region: name, rollBack: region.phase === 'Failed' };
    }
    case 'retry': {
      // A region skipped during the halt it held comes back into the plan; it is not retried in place.
      if (release.haltedOn.includes(name) && region.phase !== 'Skipped') return { kind: 'retry-now', region: name };
      if (region.phase === 'Pending') {
        refuse(`${name} has not run yet (wave ${region.wave}): there is nothing to retry`);
      }
      if (region.phase === 'Succeeded') refuse(`${name} already succeeded: there is nothing to retry`);
      if (region.phase !== 'Skipped')
        refuse(`${name} is ${region.phase} and the release is not halted on it: there is nothing to retry`);
      // A skipped region goes back into the plan: where it was if its wave has not started, else the next wave that has not.
      return {
        kind: 'requeue',
        region: name,
        toWave: region.wave >= open ? region.wave : Math.min(open, release.waves.length + 1),
      };
    }
    case 'move': {
      if (fixed) refuse(`${name} is ${fixed}: it cannot move`);
      if (region.phase !== 'Pending') refuse(`${name} is ${region.phase}: only a region that has not started can move`);
      if (region.wave === amendment.toWave) return { kind: 'none', region: name };
      checkTargetWave(release, amendment.toWave, open);
      if (amendment.toWave < region.wave)
        refuse(`wave ${amendment.toWave} is before ${name}'s wave ${region.wave}: a region only moves to a later wave`);
      if (spec.rollout?.pin === 'first') refuse(`${name} is pinned first (rollout.pin): it cannot move later`);
      return { kind: 'move', region: name, toWave: amendment.toWave };
    }
  }
}

function planAdd(release: AmendableRelease, region: RegionSpec, toWave: number | undefined): AmendmentEffect {
  const problem = describeRegionProblem(region);
  if (problem) refuse(`region: ${problem}`);
  const existing = release.specs.get(region.name);
  if (existing) {
    if (sameJson(existing, region)) return { kind: 'none', region: region.name };
    refuse(`${region.name} is already in this release, with a different definition: give the new region another name`);
  }
  if (region.canary) refuse(`${region.name} is a canary: the canary goes first, so it cannot join a release in flight`);
  if (region.role === 'staging')
    refuse(`${region.name} is a staging region: staging goes first, so it cannot join a release in flight`);
  if (region.rollout?.pin === 'first')
    refuse(
      `${region.name} is pinned first (rollout.pin): the first production region has gone; drop the pin to add it`,
    );
  const open = firstOpenWave(release);
  const wave = toWave ?? release.waves.length + 1;
  checkTargetWave(release, wave, open);
  return { kind: 'add', region, toWave: wave };
}

function checkTargetWave(release: AmendableRelease, wave: number, open: number): void {
  if (!Number.isInteger(wave) || wave < 1) refuse(`wave must be a whole number from 1, got ${wave}`);
  const last = release.waves.length;
  if (wave > last + 1)
    refuse(`the release has ${last} waves: give a wave up to ${last + 1} (${last + 1} adds a wave at the end)`);
  if (wave < open) refuse(`wave ${wave} has already started: give a wave from ${open} to ${last + 1}`);
}

/** The fields the workflow relies on, for callers that bypass the CLI's full validation (e.g. the temporal CLI). */
function describeRegionProblem(region: RegionSpec): string | undefined {
  if (typeof region !== 'object' || region === null)
    return 'expected a region object, as in spec.regions of a release spec';
  if (typeof region.name !== 'string' || !/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(region.name))
    return 'name: expected a DNS label such as eu-north';
  if (typeof region.cluster?.context !== 'string' || typeof region.cluster?.namespace !== 'string')
    return 'cluster: expected { context, namespace }';
  if (typeof region.registry !== 'string') return 'registry: expected a registry host';
  if (typeof region.endpoint !== 'string') return 'endpoint: expected a URL';
  const t = region.traits;
  if (
    !t ||
    !Array.isArray(t.scripts) ||
    !Array.isArray(t.apis) ||
    typeof t.mobileShare !== 'number' ||
    typeof t.network !== 'string'
  ) {
    return 'traits: expected a validated region (scripts, apis, mobileShare, network): use meridian add-region, which validates it from the spec file';
  }
  return undefined;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Region name → wave (1-based) for the regions that will still go, after the effect. */
function assignment(release: AmendableRelease, effect?: AmendmentEffect): Map<string, number> {
  const waves = new Map(release.regions.filter((r) => r.phase !== 'Skipped').map((r) => [r.name, r.wave]));
  if (!effect) return waves;
  if (effect.kind === 'skip') waves.delete(effect.region);
  if (effect.kind === 'move' || effect.kind === 'requeue') waves.set(effect.region, effect.toWave);
  if (effect.kind === 'add') waves.set(effect.region.name, effect.toWave);
  return waves;
}

/** Rules the plan keeps, as sentences for what breaks them; only regions that have not started count. */
function violations(
  release: AmendableRelease,
  waves: Map<string, number>,
  specs: ReadonlyMap<string, RegionSpec>,
): string[] {
  const open = firstOpenWave(release);
  const found: string[] = [];
  const lastWave = Math.max(0, ...waves.values());
  // Pins bind every region that will still go, started or not; the comparison with the rules before
  // the change leaves out what already held (or already broke) them.
  for (const [name, wave] of waves) {
    const pin = specs.get(name)?.rollout;
    if (pin?.after) {
      const before = waves.get(pin.after);
      if (before === undefined)
        found.push(
          `${name} is pinned after ${pin.after} (rollout.after), which would not go: skip or move ${name} first`,
        );
      else if (before >= wave)
        found.push(
          `${name} is pinned after ${pin.after} (rollout.after): ${pin.after} must go in an earlier wave than ${name}'s wave ${wave}`,
        );
    }
    if (pin?.pin === 'last' && wave < lastWave)
      found.push(`${name} is pinned last (rollout.pin): no region may go after its wave ${wave}`);
  }
  if (release.byTraits) {
    const byWave = new Map<number, string[]>();
    for (const [name, wave] of waves) byWave.set(wave, [...(byWave.get(wave) ?? []), name]);
    for (const wave of [...byWave.keys()].filter((w) => w >= open && byWave.get(w)!.length > 1)) {
      const covered = new Set([...waves].filter(([, w]) => w < wave).flatMap(([n]) => traitsOf(specs.get(n)!)));
      for (const name of byWave.get(wave)!) {
        const unseen = traitsOf(specs.get(name)!).filter((t) => !covered.has(t));
        if (unseen.length > 0)
          found.push(
            `${name} would go in parallel wave ${wave} with ${unseen.join(', ')} not yet exercised by an earlier wave`,
          );
      }
    }
  }
  return found;
}

/** Rule breaks the effect introduces (a plan pinned against its own rules stays amendable). */
function newViolations(release: AmendableRelease, effect: AmendmentEffect): string[] {
  const specs =
    effect.kind === 'add' ? new Map([...release.specs, [effect.region.name, effect.region]]) : release.specs;
  const before = new Set(violations(release, assignment(release), specs));
  return violations(release, assignment(release, effect), specs).filter((v) => !before.has(v));
}

/** An accepted amendment in a few words, as the release's actions record it. */
export function describeAmendment(effect: Exclude<AmendmentEffect, { kind: 'none' }>): string {
  switch (effect.kind) {
    case 'skip':
      return `skip ${effect.region}`;
    case 'retry-now':
      return `retry ${effect.region}`;
    case 'requeue':
      return `retry ${effect.region} in wave ${effect.toWave}`;
    case 'move':
      return `move ${effect.region} to wave ${effect.toWave}`;
    case 'add':
      return `add ${effect.region.name} to wave ${effect.toWave}`;
  }
}
