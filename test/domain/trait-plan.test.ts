import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { type RegionSpec, type ReleaseSpec, releaseSpecSchema } from '../../src/domain/release-spec';
import { buildRolloutPlan } from '../../src/domain/rollout-plan';
import { planByTraits, similarity, traitsOf, trafficLevel } from '../../src/domain/trait-plan';

const example = parse(readFileSync(join(__dirname, '../../examples/release.yaml'), 'utf8'));
const scripts = ['Latin', 'Hangul', 'Arabic', 'Devanagari', 'Han', 'Cyrillic'];
const apis = ['catalog', 'checkout', 'payments', 'privacy', 'search'];

/** Random regions: traffic, mobile share, scripts, APIs, network; the first is the canary. Names are unique. */
const regionsArb = fc
  .array(
    fc.record({
      traffic: fc.oneof(fc.constantFrom('low', 'medium', 'high'), fc.integer({ min: 0, max: 2000 })),
      mobileShare: fc.double({ min: 0, max: 1, noNaN: true }),
      scripts: fc.uniqueArray(fc.constantFrom(...scripts), { minLength: 1, maxLength: 3 }),
      apis: fc.uniqueArray(fc.constantFrom(...apis), { maxLength: 3 }),
      network: fc.constantFrom('good', 'fair', 'poor'),
    }),
    { minLength: 1, maxLength: 14 },
  )
  .chain((traits) =>
    fc.record({
      traits: fc.constant(traits),
      maxParallel: fc.integer({ min: 1, max: 5 }),
      canaries: fc.integer({ min: 1, max: Math.min(2, traits.length) }),
    }),
  );

function specOf(input: { traits: unknown[]; maxParallel: number; canaries: number }): ReleaseSpec {
  const raw = structuredClone(example);
  raw.spec.regions = input.traits.map((traits, i) => ({
    name: `r${i}`,
    canary: i < input.canaries,
    cluster: { context: 'c', namespace: `ns${i}` },
    registry: '127.0.0.1:5101',
    endpoint: `http://127.0.0.1:${18000 + i}`,
    traits,
  }));
  delete raw.spec.traffic; // it names the example's regions, replaced here
  raw.spec.rollout.maxParallel = input.maxParallel;
  raw.spec.rollout.approvals = [];
  return releaseSpecSchema.parse(raw);
}

const plan = (spec: ReleaseSpec) => buildRolloutPlan(spec, { bakeMs: 1000, planner: 'traits' });

describe('the trait planner (waves: auto)', () => {
  it('puts every region in exactly one wave, the canaries first, never more than maxParallel at once', () => {
    fc.assert(
      fc.property(regionsArb, (input) => {
        const spec = specOf(input);
        const waves = plan(spec).waves;
        const planned = waves.flatMap((w) => w.regions);
        expect([...planned].sort()).toEqual(spec.spec.regions.map((r) => r.name).sort());
        expect(new Set(planned).size).toBe(planned.length);
        expect(waves[0].regions).toEqual(spec.spec.regions.filter((r) => r.canary).map((r) => r.name));
        for (const w of waves.slice(1)) expect(w.regions.length).toBeLessThanOrEqual(input.maxParallel);
      }),
    );
  });

  it('never puts a region with a trait not yet exercised into a parallel wave', () => {
    fc.assert(
      fc.property(regionsArb, (input) => {
        const spec = specOf(input);
        const byName = new Map(spec.spec.regions.map((r) => [r.name, r]));
        const covered = new Set<string>();
        for (const wave of plan(spec).waves) {
          const regions = wave.regions.map((n) => byName.get(n)!);
          if (wave.regions.length > 1 && !regions.every((r) => r.canary)) {
            for (const r of regions) for (const t of traitsOf(r)) expect(covered).toContain(t);
          }
          regions.flatMap(traitsOf).forEach((t) => covered.add(t));
        }
      }),
    );
  });

  it('gives the same plan for the same spec', () => {
    fc.assert(fc.property(regionsArb, (input) => expect(plan(specOf(input))).toEqual(plan(specOf(input)))));
  });

  it('orders the example: like the canary at low traffic, then at scale, then one new trait set at a time, then in parallel', () => {
    const spec = releaseSpecSchema.parse(example);
    const waves = plan(spec).waves.map((w) => w.regions);
    expect(waves).toEqual([
      ['staging'],
      ['us-east-canary'],
      ['us-west'],
      ['us-east'],
      ['ap-northeast-2'],
      ['me-central'],
      ['ap-south'],
      ['eu-west'],
      ['sa-east'],
    ]);
    const w = plan(spec).waves;
    expect(w[4]).toMatchObject({
      newTraits: ['mobile:high', 'script:Hangul', 'traffic:medium'],
      reason: 'exercises mobile:high, script:Hangul, traffic:medium first',
    });
    expect(w.at(-1)?.coverage).toHaveLength(14);
  });

  it('follows pins: first, last, and after another region', () => {
    const raw = structuredClone(example);
    const at = (name: string) => raw.spec.regions.find((r: { name: string }) => r.name === name);
    at('sa-east').rollout = { pin: 'first' };
    at('us-west').rollout = { pin: 'last' };
    at('ap-northeast-2').rollout = { after: 'ap-south' };
    const waves = plan(releaseSpecSchema.parse(raw)).waves.map((w) => w.regions);
    expect(waves[2]).toEqual(['sa-east']);
    expect(waves.at(-1)).toEqual(['us-west']);
    const flat = waves.flat();
    expect(flat.indexOf('ap-northeast-2')).toBeGreaterThan(flat.indexOf('ap-south'));
  });

  it('rejects pins that cannot hold', () => {
    const raw = structuredClone(example);
    raw.spec.regions.find((r: { name: string }) => r.name === 'us-west').rollout = { after: 'us-east' };
    raw.spec.regions.find((r: { name: string }) => r.name === 'us-east').rollout = { after: 'us-west' };
    raw.spec.regions.find((r: { name: string }) => r.name === 'eu-west').rollout = { after: 'mars' };
    const issues = releaseSpecSchema.safeParse(raw).error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues).toContain(
      'spec.regions.1.rollout.after: rollout.after goes round in a circle (us-west -> us-east -> us-west): break it',
    );
    expect(
      issues.some((i) => i.startsWith('spec.regions.3.rollout.after: "mars" is not another production region')),
    ).toBe(true);
  });

  it('reads numeric traffic as a level, and similarity leaves traffic aside', () => {
    expect([trafficLevel(10), trafficLevel(50), trafficLevel(500)]).toEqual(['low', 'medium', 'high']);
    const base = releaseSpecSchema.parse(example).spec.regions;
    const [canary, usWest, usEast] = base as RegionSpec[];
    expect(similarity(canary, usWest)).toBe(1);
    expect(similarity(canary, usEast)).toBe(0.75);
    expect(planByTraits({ canaries: [canary], regions: [], maxParallel: 3 })).toEqual([]);
  });
});
