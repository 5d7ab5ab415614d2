import {
  type AmendableRelease,
  AmendmentRefused,
  describeAmendment,
  firstOpenWave,
  planAmendment,
} from '../../src/domain/plan-amendments';
import { type RegionSpec, regionSchema } from '../../src/domain/release-spec';
import type { RegionPhase } from '../../src/domain/release-status';

const region = (name: string, traits: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): RegionSpec =>
  regionSchema.parse({
    name,
    cluster: { context: 'c', namespace: name },
    registry: '127.0.0.1:5100',
    endpoint: `http://${name}.example.com`,
    traits: { traffic: 'low', ...traits },
    ...extra,
  });

/** A release of five regions in four waves; phases and pins as each test needs. */
function release(
  change: {
    phases?: Record<string, RegionPhase>;
    specs?: RegionSpec[];
    wave?: number;
    phase?: AmendableRelease['phase'];
    byTraits?: boolean;
    haltedOn?: string[];
  } = {},
): AmendableRelease {
  const specs = change.specs ?? [
    region('canary', {}, { canary: true }),
    region('low'),
    region('seoul', { scripts: ['Hangul'] }),
    region('paris'),
    region('lima'),
  ];
  const waves = [['canary'], ['low'], ['seoul'], ['paris', 'lima']];
  const waveOf = (name: string) => waves.findIndex((w) => w.includes(name)) + 1;
  return {
    phase: change.phase ?? 'Running',
    wave: change.wave ?? 2,
    waves: waves.map((regions) => ({ regions })),
    regions: specs.map((s) => ({
      name: s.name,
      wave: waveOf(s.name),
      phase: change.phases?.[s.name] ?? (waveOf(s.name) < (change.wave ?? 2) ? 'Succeeded' : 'Pending'),
    })),
    specs: new Map(specs.map((s) => [s.name, s])),
    haltedOn: change.haltedOn ?? [],
    byTraits: change.byTraits ?? false,
  };
}

const refused = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof AmendmentRefused) return err.message;
    throw err;
  }
  throw new Error('expected a refusal');
};

describe('firstOpenWave', () => {
  it.each([
    ['Running', 2, 3],
    ['Halted', 2, 3],
    ['WaitingForApproval', 2, 2],
    ['Pending', 0, 1],
  ] as const)('%s in wave %d: wave %d is the first that has not started', (phase, wave, open) => {
    expect(firstOpenWave({ phase, wave })).toBe(open);
  });
});

describe('planAmendment', () => {
  it('refuses any amendment once the release has ended', () => {
    expect(refused(() => planAmendment(release({ phase: 'Succeeded' }), { kind: 'skip', region: 'paris' }))).toBe(
      'the release already ended Succeeded',
    );
  });

  it.each([
    ['skip the canary', { kind: 'skip', region: 'canary' }, 'canary is the canary'],
    ['skip an unknown region', { kind: 'skip', region: 'mars' }, 'mars is not in this release'],
    ['move the canary', { kind: 'move', region: 'canary', toWave: 4 }, 'canary is the canary: it cannot move'],
    [
      'move to an earlier wave',
      { kind: 'move', region: 'paris', toWave: 3 },
      "wave 3 is before paris's wave 4: a region only moves to a later wave",
    ],
    [
      'move into a wave that has started',
      { kind: 'move', region: 'paris', toWave: 2 },
      'wave 2 has already started: give a wave from 3 to 5',
    ],
    ['move past a new last wave', { kind: 'move', region: 'paris', toWave: 6 }, 'give a wave up to 5'],
    ['retry a region that has not run', { kind: 'retry', region: 'paris' }, 'paris has not run yet'],
    ['retry a region that succeeded', { kind: 'retry', region: 'canary' }, 'canary already succeeded'],
  ] as const)('refuses to %s', (_what, amendment, message) => {
    expect(refused(() => planAmendment(release(), amendment))).toContain(message);
  });

  it('refuses to touch a region in flight or done; an inconclusive one points at approve and resume', () => {
    expect(refused(() => planAmendment(release({ wave: 3 }), { kind: 'skip', region: 'low' }))).toContain(
      'low already runs the release',
    );
    expect(
      refused(() => planAmendment(release({ phases: { low: 'Baking' } }), { kind: 'skip', region: 'low' })),
    ).toContain('low is in flight (Baking)');
    expect(
      refused(() => planAmendment(release({ phases: { low: 'Inconclusive' } }), { kind: 'skip', region: 'low' })),
    ).toContain('approve accepts it');
  });

  it('skips a pending region; a failed one left as it is is rolled back; skipping twice is nothing', () => {
    expect(planAmendment(release(), { kind: 'skip', region: 'paris' })).toEqual({
      kind: 'skip',
      region: 'paris',
      rollBack: false,
    });
    expect(
      planAmendment(release({ phases: { low: 'Failed' }, phase: 'Halted', haltedOn: ['low'] }), {
        kind: 'skip',
        region: 'low',
      }),
    ).toEqual({
      kind: 'skip',
      region: 'low',
      rollBack: true,
    });
    expect(
      planAmendment(release({ phases: { low: 'RolledBack' }, phase: 'Halted', haltedOn: ['low'] }), {
        kind: 'skip',
        region: 'low',
      }),
    ).toMatchObject({ rollBack: false });
    expect(planAmendment(release({ phases: { paris: 'Skipped' } }), { kind: 'skip', region: 'paris' })).toEqual({
      kind: 'none',
      region: 'paris',
    });
  });

  it('retries a region the release is halted on now; a skipped one goes back where it was, or to the next open wave', () => {
    expect(
      planAmendment(release({ phases: { low: 'RolledBack' }, phase: 'Halted', haltedOn: ['low'] }), {
        kind: 'retry',
        region: 'low',
      }),
    ).toEqual({
      kind: 'retry-now',
      region: 'low',
    });
    expect(planAmendment(release({ phases: { paris: 'Skipped' } }), { kind: 'retry', region: 'paris' })).toEqual({
      kind: 'requeue',
      region: 'paris',
      toWave: 4,
    });
    // Skipped in wave 2, which has started: it joins wave 3.
    expect(planAmendment(release({ phases: { low: 'Skipped' } }), { kind: 'retry', region: 'low' })).toEqual({
      kind: 'requeue',
      region: 'low',
      toWave: 3,
    });
    // In the last wave, it gets a wave of its own.
    expect(
      planAmendment(release({ wave: 4, phases: { lima: 'Skipped', paris: 'Baking' } }), {
        kind: 'retry',
        region: 'lima',
      }),
    ).toEqual({
      kind: 'requeue',
      region: 'lima',
      toWave: 5,
    });
  });

  it('refuses every change while the release is ending', () => {
    expect(
      refused(() => planAmendment({ ...release(), ending: 'aborted' }, { kind: 'add', region: region('oslo') })),
    ).toBe('the release is ending (aborted): its plan no longer changes');
  });

  it('brings back a region skipped during the halt it held, instead of retrying it in place', () => {
    const halted = release({
      phase: 'Halted',
      haltedOn: ['low', 'seoul'],
      phases: { low: 'Skipped', seoul: 'RolledBack' },
      wave: 2,
    });
    expect(planAmendment(halted, { kind: 'retry', region: 'low' })).toEqual({
      kind: 'requeue',
      region: 'low',
      toWave: 3,
    });
  });

  it('keeps a region pinned last last even when it is in the wave that runs now', () => {
    const specs = [
      region('canary', {}, { canary: true }),
      region('low', {}, { rollout: { pin: 'last' } }),
      region('seoul'),
      region('paris'),
      region('lima'),
    ];
    const lastRunning = release({
      specs,
      wave: 4,
      phase: 'Halted',
      haltedOn: ['paris'],
      phases: { paris: 'Failed', lima: 'Succeeded', low: 'Succeeded', seoul: 'Succeeded' },
    });
    lastRunning.regions = lastRunning.regions.map((r) => (r.name === 'low' ? { ...r, wave: 4, phase: 'Pending' } : r));
    expect(refused(() => planAmendment(lastRunning, { kind: 'add', region: region('oslo') }))).toContain(
      'low is pinned last',
    );
  });

  it('keeps pins: after, first and last', () => {
    const specs = [
      region('canary', {}, { canary: true }),
      region('low', {}, { rollout: { pin: 'first' } }),
      region('seoul', { scripts: ['Hangul'] }),
      region('paris', {}, { rollout: { after: 'seoul' } }),
      region('lima', {}, { rollout: { pin: 'last' } }),
    ];
    const pinned = release({ specs, wave: 1, phase: 'WaitingForApproval' });
    expect(refused(() => planAmendment(pinned, { kind: 'move', region: 'low', toWave: 3 }))).toContain(
      'low is pinned first',
    );
    expect(refused(() => planAmendment(pinned, { kind: 'skip', region: 'seoul' }))).toContain(
      'paris is pinned after seoul (rollout.after), which would not go',
    );
    expect(refused(() => planAmendment(pinned, { kind: 'move', region: 'seoul', toWave: 4 }))).toContain(
      'seoul must go in an earlier wave',
    );
    expect(refused(() => planAmendment(pinned, { kind: 'move', region: 'paris', toWave: 5 }))).toContain(
      'lima is pinned last',
    );
    expect(planAmendment(pinned, { kind: 'move', region: 'lima', toWave: 5 })).toEqual({
      kind: 'move',
      region: 'lima',
      toWave: 5,
    });
    expect(refused(() => planAmendment(pinned, { kind: 'add', region: region('oslo') }))).toContain(
      'lima is pinned last',
    );
    expect(planAmendment(pinned, { kind: 'add', region: region('oslo'), toWave: 4 })).toMatchObject({
      kind: 'add',
      toWave: 4,
    });
  });

  it('in a trait-ordered plan, refuses a parallel wave that would bring a trait no earlier wave exercised', () => {
    const specs = [
      region('canary', {}, { canary: true }),
      region('low'),
      region('seoul', { scripts: ['Hangul'] }),
      region('paris'),
      region('busan', { scripts: ['Hangul'] }),
    ];
    const byTraits = { ...release({ specs, byTraits: true }) };
    byTraits.waves = [
      { regions: ['canary'] },
      { regions: ['low'] },
      { regions: ['seoul'] },
      { regions: ['paris', 'busan'] },
    ];
    byTraits.regions = byTraits.regions.map((r) => (r.name === 'busan' ? { ...r, wave: 4 } : r));
    expect(refused(() => planAmendment(byTraits, { kind: 'skip', region: 'seoul' }))).toBe(
      'busan would go in parallel wave 4 with script:Hangul not yet exercised by an earlier wave',
    );
    expect(refused(() => planAmendment(byTraits, { kind: 'move', region: 'seoul', toWave: 4 }))).toContain(
      'not yet exercised',
    );
    expect(
      refused(() =>
        planAmendment(byTraits, { kind: 'add', region: region('cairo', { scripts: ['Arabic'] }), toWave: 4 }),
      ),
    ).toBe('cairo would go in parallel wave 4 with script:Arabic not yet exercised by an earlier wave');
    // In a wave of its own it explores the trait, as the planner would have placed it.
    expect(planAmendment(byTraits, { kind: 'add', region: region('cairo', { scripts: ['Arabic'] }) })).toMatchObject({
      kind: 'add',
      toWave: 5,
    });
    // The same plan not ordered by traits has no such rule.
    expect(planAmendment({ ...byTraits, byTraits: false }, { kind: 'skip', region: 'seoul' })).toMatchObject({
      kind: 'skip',
    });
  });

  it('adds a validated region: refuses canaries, staging, unvalidated input and a clashing name; the same region twice is nothing', () => {
    const r = release();
    expect(refused(() => planAmendment(r, { kind: 'add', region: region('oslo', {}, { canary: true }) }))).toContain(
      'oslo is a canary',
    );
    expect(refused(() => planAmendment(r, { kind: 'add', region: region('oslo', {}, { role: 'staging' }) }))).toContain(
      'oslo is a staging region',
    );
    expect(refused(() => planAmendment(r, { kind: 'add', region: { name: 'oslo' } as RegionSpec }))).toContain(
      'region: cluster',
    );
    expect(refused(() => planAmendment(r, { kind: 'add', region: { ...region('x'), name: 'Oslo!' } }))).toContain(
      'region: name',
    );
    expect(refused(() => planAmendment(r, { kind: 'add', region: region('paris', { traffic: 'high' }) }))).toContain(
      'paris is already in this release',
    );
    expect(planAmendment(r, { kind: 'add', region: region('paris') })).toEqual({ kind: 'none', region: 'paris' });
  });

  it('takes a region as it arrives over the wire (parsed, deploy window included) and refuses a bad field by name', () => {
    const r = release();
    // What `meridian add-region` sends is regionSchema's output (the window's hours already read into
    // from/to), through Temporal's JSON payloads: it is accepted as it is.
    const windowed = region('oslo', {}, { deployWindow: { timezone: 'Europe/Oslo', hours: '09:00-17:00' } });
    const overTheWire = (spec: unknown) => JSON.parse(JSON.stringify(spec)) as RegionSpec;
    expect(planAmendment(r, { kind: 'add', region: overTheWire(windowed) })).toEqual({
      kind: 'add',
      region: windowed,
      toWave: 5,
    });
    // A share that is not a finite number arrives as null (JSON has no NaN or Infinity).
    const nanShare = overTheWire({ ...region('oslo'), traits: { ...region('oslo').traits, mobileShare: NaN } });
    expect(nanShare.traits.mobileShare).toBeNull();
    expect(refused(() => planAmendment(r, { kind: 'add', region: nanShare }))).toMatch(/^region: traits: expected/);
    expect(
      refused(() => planAmendment(r, { kind: 'add', region: overTheWire({ ...region('oslo'), registry: 5100 }) })),
    ).toBe('region: registry: expected a registry host');
  });

  it('describes each change for the record', () => {
    expect(describeAmendment({ kind: 'move', region: 'paris', toWave: 5 })).toBe('move paris to wave 5');
    expect(describeAmendment({ kind: 'add', region: region('oslo'), toWave: 5 })).toBe('add oslo to wave 5');
    expect(describeAmendment({ kind: 'requeue', region: 'lima', toWave: 5 })).toBe('retry lima in wave 5');
  });
});
