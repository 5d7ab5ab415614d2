import type { RegionSpec } from './release-spec';

/**
 * The order of production regions from their traits, as staged rollouts are run by hand: after the
 * canary, the low-traffic region most like it; then a high-traffic region like it, to prove scale; then
 * one region at a time, each bringing the most traits no earlier region exercised (a script, a high
 * mobile share, a poor network, an API); then the rest in parallel waves. Pure and deterministic: ties go
 * to lower traffic, then to spec order.
 */

/** One step of the order: the regions that go together, and why. */
export interface TraitWave {
  regions: string[];
  reason: string;
  /** Traits this wave exercises first. */
  newTraits: string[];
}

/** Requests per second at or above which numeric traffic counts as medium, and as high. */
export const trafficLevelThresholds = { medium: 50, high: 500 } as const;

/** A mobile share at or above this exercises the mobile clients. */
export const highMobileShare = 0.5;

const trafficRank = { low: 0, medium: 1, high: 2 } as const;

export function trafficLevel(traffic: RegionSpec['traits']['traffic']): keyof typeof trafficRank {
  if (typeof traffic === 'string') return traffic;
  return traffic >= trafficLevelThresholds.high ? 'high' : traffic >= trafficLevelThresholds.medium ? 'medium' : 'low';
}

/**
 * The traits a region exercises, as tokens: `traffic:high`, `script:Hangul`, `mobile:high`, `api:payments`,
 * `network:poor`. A good network and low mobile share are the baseline every region has.
 */
export function traitsOf(region: RegionSpec): string[] {
  const t = region.traits;
  const tokens = [
    `traffic:${trafficLevel(t.traffic)}`,
    ...t.scripts.map((s) => `script:${s}`),
    ...(t.mobileShare >= highMobileShare ? ['mobile:high'] : []),
    ...t.apis.map((a) => `api:${a}`),
    ...(t.network !== 'good' ? [`network:${t.network}`] : []),
  ];
  return [...new Set(tokens)].sort();
}

/** How alike two regions are in what users send (traffic aside): shared traits over all traits, 0 to 1. */
export function similarity(a: RegionSpec, b: RegionSpec): number {
  const ta = new Set(traitsOf(a).filter((x) => !x.startsWith('traffic:')));
  const tb = new Set(traitsOf(b).filter((x) => !x.startsWith('traffic:')));
  const union = new Set([...ta, ...tb]);
  if (union.size === 0) return 1;
  return [...ta].filter((x) => tb.has(x)).length / union.size;
}

export interface TraitPlanInput {
  /** Canary regions: they have gone first. */
  canaries: RegionSpec[];
  /** Production regions to order, in spec order. */
  regions: RegionSpec[];
  maxParallel: number;
}

/** Orders the production regions in waves, each with its reason and the traits it exercises first. */
export function planByTraits(input: TraitPlanInput): TraitWave[] {
  const order = new Map(input.regions.map((r, i) => [r.name, i]));
  const covered = new Set(input.canaries.flatMap(traitsOf));
  const placed = new Set(input.canaries.map((r) => r.name));
  const waves: TraitWave[] = [];
  let remaining = [...input.regions];

  // A region's traits and its likeness to the canaries never change while planning: worked out once per
  // region, not inside every comparison (500 regions spent most of their planning time re-deriving them).
  const traitsMemo = new Map<RegionSpec, string[]>();
  const traitsOfRegion = (r: RegionSpec) => {
    let t = traitsMemo.get(r);
    if (!t) traitsMemo.set(r, (t = traitsOf(r)));
    return t;
  };
  const likenessMemo = new Map<RegionSpec, number>();
  const canaryLike = (r: RegionSpec) => {
    let like = likenessMemo.get(r);
    if (like === undefined) likenessMemo.set(r, (like = Math.max(0, ...input.canaries.map((c) => similarity(r, c)))));
    return like;
  };
  const rank = (r: RegionSpec) => trafficRank[trafficLevel(r.traits.traffic)];
  // `after: X` waits for X; `last` waits for every region that is not last.
  const eligible = (r: RegionSpec) => {
    if (r.rollout?.after && !placed.has(r.rollout.after)) return false;
    if (r.rollout?.pin === 'last') return remaining.every((o) => o.rollout?.pin === 'last' || o === r);
    return true;
  };
  const place = (group: RegionSpec[], reason: string) => {
    const newTraits = [...new Set(group.flatMap(traitsOfRegion))].filter((t) => !covered.has(t)).sort();
    for (const r of group) {
      placed.add(r.name);
      traitsOfRegion(r).forEach((t) => covered.add(t));
    }
    remaining = remaining.filter((r) => !group.includes(r));
    waves.push({ regions: group.map((r) => r.name), reason, newTraits });
  };
  /**
   * The best of the eligible regions by `score` (higher first), ties to lower traffic, then spec order.
   * Each candidate is scored once, and one pass keeps the best (spec order makes the order total, so
   * this is the first of a sort by the same comparison).
   */
  const best = (candidates: RegionSpec[], score: (r: RegionSpec) => number) => {
    const scored = candidates.map((r) => ({ r, score: score(r), rank: rank(r), order: order.get(r.name)! }));
    return scored.reduce((a, b) => ((b.score - a.score || a.rank - b.rank || a.order - b.order) > 0 ? b : a)).r;
  };
  const newCount = (r: RegionSpec) => traitsOfRegion(r).filter((t) => !covered.has(t)).length;

  for (const r of remaining.filter((x) => x.rollout?.pin === 'first' && eligible(x))) place([r], 'pinned first');

  const low = remaining.filter((r) => eligible(r) && r.rollout?.pin !== 'last');
  if (low.length > 0 && !waves.length) {
    const lowest = Math.min(...low.map(rank));
    const first = best(
      low.filter((r) => rank(r) === lowest),
      canaryLike,
    );
    place(
      [first],
      `first production region: ${trafficLevel(first.traits.traffic)} traffic and most like the canary (${pct(canaryLike(first))} of traits shared)`,
    );
  }
  const high = remaining.filter((r) => eligible(r) && rank(r) === trafficRank.high && r.rollout?.pin !== 'last');
  if (high.length > 0 && !covered.has('traffic:high')) {
    const second = best(high, canaryLike);
    place(
      [second],
      `high traffic and like the canary (${pct(canaryLike(second))} of traits shared): proves the release at scale`,
    );
  }
  for (;;) {
    const open = remaining.filter((r) => newCount(r) > 0);
    if (open.length === 0) break;
    const candidates = open.filter(eligible);
    if (candidates.length > 0) {
      const next = best(candidates, newCount);
      const brings = traitsOfRegion(next).filter((t) => !covered.has(t));
      place([next], `exercises ${brings.join(', ')} first`);
      continue;
    }
    // What brings new traits waits on another region: place the one it waits for.
    const blocker =
      remaining.find((r) => eligible(r) && open.some((o) => o.rollout?.after === r.name)) ?? remaining.find(eligible);
    if (!blocker) break;
    place(
      [blocker],
      `goes before ${
        open
          .filter((o) => o.rollout?.after === blocker.name)
          .map((o) => o.name)
          .join(', ') || 'the regions pinned last'
      }, which wait for it`,
    );
  }
  while (remaining.length > 0) {
    const ready = remaining.filter(eligible);
    const group = (ready.length > 0 ? ready : remaining).slice(0, input.maxParallel);
    const pinnedLast = group.every((r) => r.rollout?.pin === 'last');
    place(
      group,
      pinnedLast
        ? 'pinned last'
        : `every trait already exercised: in parallel, up to maxParallel ${input.maxParallel} at once`,
    );
  }
  return waves;
}

function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}
