import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { planWarnings } from '../../src/domain/plan-warnings';
import { releaseSpecSchema } from '../../src/domain/release-spec';
import { planRelease } from '../../src/domain/rollout-plan';

const spec = releaseSpecSchema.parse(parse(readFileSync(join(__dirname, '../../examples/release.yaml'), 'utf8')));

describe('planWarnings', () => {
  it('says nothing of bakes long enough for their analysis', () => {
    expect(planWarnings(spec, planRelease(spec, {}), {})).toEqual([]);
  });

  it('warns of bakes too short for minSamples measurements, with overrides applied', () => {
    const overrides = { bakeMs: 50_000, canarySoakMs: 70_000 };
    const warnings = planWarnings(spec, planRelease(spec, overrides), overrides);
    // interval 30s, minSamples 3: measurements at 0, 30 s and 60 s need a bake past 60 s. Every
    // production wave but the last bakes 50 s; the canary's 70 s soak is long enough.
    const plan = planRelease(spec, overrides);
    expect(warnings).toHaveLength(plan.waves.filter((w) => w.bakeMs === 50_000).length);
    expect(warnings[0]).toBe(
      'wave 3 (us-west): a bake of 50s fits fewer than minSamples 3 measurements 30s apart, so its analysis can only end inconclusive: bake longer or measure more often',
    );
    expect(planWarnings(spec, planRelease(spec, overrides), { ...overrides, analysisIntervalMs: 10_000 })).toEqual([]);
  });
});
