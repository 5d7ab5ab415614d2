import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { type ReleaseSpec, type ReleaseSpecInput, releaseSpecSchema } from '../../src/domain/release-spec';
import { buildRolloutPlan, planRelease, type RolloutPlan } from '../../src/domain/rollout-plan';

const exampleText = readFileSync(join(__dirname, '../../examples/release.yaml'), 'utf8');
const hour = 3_600_000;
const production = ['us-west', 'us-east', 'eu-west', 'ap-northeast-2', 'me-central', 'sa-east', 'ap-south'];

/**
 * The example spec's production regions (canary us-east-canary, seven production regions, canarySoak
 * 72h, floor 30m), changed by `change`; `withStaging` keeps its staging region.
 */
function specWith(change: (raw: ReleaseSpecInput) => void = () => {}, withStaging = false): ReleaseSpec {
  const raw = parse(exampleText) as ReleaseSpecInput;
  if (!withStaging) raw.spec.regions = raw.spec.regions.filter((r) => r.role !== 'staging');
  change(raw);
  return releaseSpecSchema.parse(raw);
}

function regionsOf(plan: RolloutPlan): string[][] {
  return plan.waves.map((w) => w.regions);
}

function expectEveryRegionOnce(plan: RolloutPlan, spec: ReleaseSpec): void {
  const planned = plan.waves.flatMap((w) => w.regions);
  expect([...planned].sort()).toEqual(spec.spec.regions.map((r) => r.name).sort());
  expect(new Set(planned).size).toBe(planned.length);
}

describe('buildRolloutPlan with waves: auto', () => {
  it('puts the canary first, soaking for canarySoak, then the rest in spec order in waves of maxParallel', () => {
    const spec = specWith();
    const plan = buildRolloutPlan(spec, { bakeMs: 2 * hour });
    expect(plan).toEqual({
      maxParallel: 3,
      waves: [
        { regions: ['us-east-canary'], bakeMs: 72 * hour, reason: 'canary first' },
        {
          regions: ['us-west', 'us-east', 'eu-west'],
          bakeMs: 2 * hour,
          reason: 'in spec order, up to maxParallel at once',
        },
        {
          regions: ['ap-northeast-2', 'me-central', 'sa-east'],
          bakeMs: 2 * hour,
          reason: 'in spec order, up to maxParallel at once',
        },
        { regions: ['ap-south'], bakeMs: 0, reason: 'in spec order, up to maxParallel at once' },
      ],
    });
  });

  it('gives each production region its own wave when maxParallel is 1', () => {
    const spec = specWith((raw) => {
      raw.spec.rollout!.maxParallel = 1;
    });
    const plan = buildRolloutPlan(spec, { bakeMs: hour });
    expect(regionsOf(plan)).toEqual([['us-east-canary'], ...production.map((r) => [r])]);
    expect(plan.waves.map((w) => w.bakeMs)).toEqual([72 * hour, hour, hour, hour, hour, hour, hour, 0]);
  });

  it('puts every production region in one wave when maxParallel is at least their number', () => {
    const spec = specWith((raw) => {
      raw.spec.rollout!.maxParallel = 50;
    });
    const plan = buildRolloutPlan(spec, { bakeMs: hour });
    expect(regionsOf(plan)).toEqual([['us-east-canary'], production]);
    expect(plan.waves.map((w) => w.bakeMs)).toEqual([72 * hour, 0]);
    expect(plan.maxParallel).toBe(50);
  });

  it('puts every canary in the first wave, in spec order, wherever they are listed', () => {
    const spec = specWith((raw) => {
      raw.spec.regions[4].canary = true; // ap-northeast-2
    });
    const plan = buildRolloutPlan(spec, { bakeMs: hour });
    expect(regionsOf(plan)).toEqual([
      ['us-east-canary', 'ap-northeast-2'],
      ['us-west', 'us-east', 'eu-west'],
      ['me-central', 'sa-east', 'ap-south'],
    ]);
  });

  it('bakes 0 after the canary when the canary is the only region', () => {
    const spec = specWith((raw) => {
      raw.spec.regions = raw.spec.regions.slice(0, 1);
      delete raw.spec.traffic; // it names the regions just removed
      // after-canary gates the wave after the canary, and there is none: validation refuses it.
      raw.spec.rollout!.approvals = [];
    });
    expect(buildRolloutPlan(spec, { bakeMs: hour }).waves).toEqual([
      { regions: ['us-east-canary'], bakeMs: 0, reason: 'canary first' },
    ]);
  });

  it('uses the canarySoakMs option instead of spec.rollout.canarySoak', () => {
    const plan = buildRolloutPlan(specWith(), { bakeMs: hour, canarySoakMs: 5_000 });
    expect(plan.waves[0]).toMatchObject({ regions: ['us-east-canary'], bakeMs: 5_000 });
    expect(plan.waves[1].bakeMs).toBe(hour);
  });
});

describe('buildRolloutPlan with explicit waves', () => {
  it('keeps the waves as written, with their own bakes and no splitting by maxParallel', () => {
    const spec = specWith((raw) => {
      raw.spec.rollout!.maxParallel = 2;
      raw.spec.rollout!.waves = [
        { regions: ['us-east-canary'], bake: '10m' },
        ['ap-south', 'us-west', 'us-east', 'eu-west'],
        { regions: ['sa-east', 'me-central'], bake: '45m' },
        ['ap-northeast-2'],
      ];
    });
    const plan = buildRolloutPlan(spec, { bakeMs: 2 * hour });
    expect(plan).toEqual({
      maxParallel: 2,
      waves: [
        { regions: ['us-east-canary'], bakeMs: 10 * 60_000, reason: 'wave 1 as listed in spec.rollout.waves' },
        {
          regions: ['ap-south', 'us-west', 'us-east', 'eu-west'],
          bakeMs: 2 * hour,
          reason: 'wave 2 as listed in spec.rollout.waves',
        },
        { regions: ['sa-east', 'me-central'], bakeMs: 45 * 60_000, reason: 'wave 3 as listed in spec.rollout.waves' },
        { regions: ['ap-northeast-2'], bakeMs: 0, reason: 'wave 4 as listed in spec.rollout.waves' },
      ],
    });
    expectEveryRegionOnce(plan, spec);
  });

  it('soaks a canary-only wave without its own bake for the canary soak, and a mixed wave for the bake', () => {
    const spec = specWith((raw) => {
      raw.spec.rollout!.waves = [['us-east-canary'], ['us-west', 'us-east'], production.slice(2)];
    });
    expect(buildRolloutPlan(spec, { bakeMs: hour }).waves.map((w) => w.bakeMs)).toEqual([72 * hour, hour, 0]);
    expect(buildRolloutPlan(spec, { bakeMs: hour, canarySoakMs: 1_000 }).waves.map((w) => w.bakeMs)).toEqual([
      1_000,
      hour,
      0,
    ]);

    const mixed = specWith((raw) => {
      raw.spec.rollout!.waves = [['us-east-canary', 'us-west'], production.slice(1)];
      // A first wave that is not the canary alone has no after-canary gate: validation refuses it.
      raw.spec.rollout!.approvals = [];
    });
    expect(buildRolloutPlan(mixed, { bakeMs: hour }).waves.map((w) => w.bakeMs)).toEqual([hour, 0]);
  });

  it('keeps a bake written on the last wave', () => {
    const spec = specWith((raw) => {
      raw.spec.rollout!.waves = [['us-east-canary'], { regions: production, bake: '15m' }];
    });
    expect(buildRolloutPlan(spec, { bakeMs: hour }).waves.map((w) => w.bakeMs)).toEqual([72 * hour, 15 * 60_000]);
  });

  it('does not share arrays with the spec, so changing the plan cannot change the spec', () => {
    const spec = specWith((raw) => {
      raw.spec.rollout!.waves = [['us-east-canary'], production];
    });
    buildRolloutPlan(spec, { bakeMs: hour }).waves[1].regions.push('extra');
    expect(spec.spec.rollout.waves).toEqual([['us-east-canary'], production]);
  });
});

/** The bakes a plan of `waves` waves has: the canary soak, the bake after each middle wave, none after the last. */
const bakes = (waves: number, canarySoak: number, bake: number) => [
  canarySoak,
  ...Array<number>(waves - 2).fill(bake),
  0,
];

describe('planRelease', () => {
  it('bakes each production wave for the time-to-smoke floor and soaks the canary for canarySoak by default', () => {
    const plan = planRelease(specWith(), {});
    expect(plan.waves.map((w) => w.bakeMs)).toEqual(bakes(plan.waves.length, 72 * hour, 30 * 60_000));
  });

  it('applies the bakeMs and canarySoakMs overrides', () => {
    const plan = planRelease(specWith(), { bakeMs: 2_000, canarySoakMs: 500 });
    expect(plan.waves.map((w) => w.bakeMs)).toEqual(bakes(plan.waves.length, 500, 2_000));
  });

  it('applies one override without the other', () => {
    const n = planRelease(specWith(), {}).waves.length;
    expect(planRelease(specWith(), { bakeMs: 2_000 }).waves.map((w) => w.bakeMs)).toEqual(bakes(n, 72 * hour, 2_000));
    expect(planRelease(specWith(), { canarySoakMs: 0 }).waves.map((w) => w.bakeMs)).toEqual(bakes(n, 0, 30 * 60_000));
  });

  it('follows a different floor written in the spec', () => {
    const spec = specWith((raw) => {
      raw.spec.rollout!.timeToSmoke!.floor = '2h';
    });
    const plan = planRelease(spec, {});
    expect(plan.waves.map((w) => w.bakeMs)).toEqual(bakes(plan.waves.length, 72 * hour, 2 * hour));
  });

  it('gives the same plan for the same spec', () => {
    expect(planRelease(specWith(), {})).toEqual(planRelease(specWith(), {}));
  });

  it('orders regions in spec order for releases started before the trait planner', () => {
    expect(regionsOf(planRelease(specWith(), {}, undefined, 'spec-order'))).toEqual([
      ['us-east-canary'],
      production.slice(0, 3),
      production.slice(3, 6),
      production.slice(6),
    ]);
  });

  it.each([1, 2, 3, 4, 7, 8])('puts every region in exactly one wave with maxParallel %d', (maxParallel) => {
    const spec = specWith((raw) => {
      raw.spec.rollout!.maxParallel = maxParallel;
    });
    const plan = planRelease(spec, {});
    expectEveryRegionOnce(plan, spec);
    expect(plan.waves[0].regions).toEqual(['us-east-canary']);
    for (const wave of plan.waves.slice(1)) expect(wave.regions.length).toBeLessThanOrEqual(maxParallel);
    expect(plan.waves.at(-1)!.bakeMs).toBe(0);
  });
});

describe('buildRolloutPlan with a staging region', () => {
  it('puts staging regions first, in a wave of their own with no bake, before the canary', () => {
    const plan = buildRolloutPlan(specWith(undefined, true), { bakeMs: 2 * hour });
    expect(plan.waves[0]).toEqual({
      regions: ['staging'],
      bakeMs: 0,
      staging: true,
      reason: 'staging first: integration checks and the load test must pass before any production region',
    });
    expect(plan.waves[1]).toMatchObject({ regions: ['us-east-canary'], bakeMs: 72 * hour });
    expect(plan.waves.slice(1).flatMap((w) => w.regions)).not.toContain('staging');
  });

  it('puts them first with explicit waves too, which must not list them', () => {
    const spec = specWith((raw) => {
      raw.spec.rollout!.waves = [['us-east-canary'], production];
    }, true);
    expect(regionsOf(buildRolloutPlan(spec, { bakeMs: hour }))).toEqual([['staging'], ['us-east-canary'], production]);
    const listed = releaseSpecSchema.safeParse({
      ...parse(exampleText),
      spec: { ...parse(exampleText).spec, rollout: { waves: [['us-east-canary', 'staging'], production] } },
    });
    expect(listed.success).toBe(false);
    expect(listed.error?.issues.map((i) => i.message)).toContain(
      '"staging" is a staging region: staging regions always go first, before the waves; remove it here',
    );
  });
});

describe('time-to-smoke growth per wave', () => {
  it('bakes each production wave longer than the one before, up to the ceiling, leaving the canary soak and explicit bakes', () => {
    const spec = specWith((raw) => {
      raw.spec.rollout!.timeToSmoke = { ...raw.spec.rollout!.timeToSmoke, growth: '50%', ceiling: '2h' };
    });
    const bakes = planRelease(spec, {}, hour).waves.map((w) => w.bakeMs);
    expect(bakes.slice(0, 5)).toEqual([72 * hour, hour, 1.5 * hour, 2 * hour, 2 * hour]);
    expect(bakes.at(-1)).toBe(0);
    // A --bake override is taken as given.
    expect(
      new Set(
        planRelease(spec, { bakeMs: 1_000 }, hour)
          .waves.slice(1, -1)
          .map((w) => w.bakeMs),
      ),
    ).toEqual(new Set([1_000]));
    const written = specWith((raw) => {
      raw.spec.rollout!.timeToSmoke = { ...raw.spec.rollout!.timeToSmoke, growth: '50%' };
      raw.spec.rollout!.waves = [
        ['us-east-canary'],
        { regions: ['us-west'], bake: '10m' },
        production.slice(1, 4),
        production.slice(4),
      ];
    });
    expect(planRelease(written, {}, hour).waves.map((w) => w.bakeMs)).toEqual([72 * hour, 10 * 60_000, hour, 0]);
  });
});
