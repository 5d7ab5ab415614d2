import { releaseMetricNames, releaseMetrics } from '../../src/workflows/release-metrics';
import { recordingMeter } from '../activities/recording-meter';

describe('releaseMetrics', () => {
  it('names every metric meridian_*, counters *_total and histograms in ms', () => {
    for (const name of Object.values(releaseMetricNames)) expect(name).toMatch(/^meridian_[a-z_]+(_total|_ms)$/);
  });

  it('counts releases by app and the phase they end in', () => {
    const meter = recordingMeter();
    const metrics = releaseMetrics(meter);
    metrics.releaseStarted('shop-api');
    metrics.releaseEnded('shop-api', 'Aborted');
    expect(meter.recorded).toEqual([
      {
        name: 'meridian_releases_started_total',
        kind: 'counter',
        unit: undefined,
        value: 1,
        tags: { app: 'shop-api' },
      },
      {
        name: 'meridian_releases_total',
        kind: 'counter',
        unit: undefined,
        value: 1,
        tags: { app: 'shop-api', phase: 'Aborted' },
      },
    ]);
  });

  it('counts a region deployed or rolled back by what its workflow ended with; failed and aborted regions count neither', () => {
    const meter = recordingMeter();
    const metrics = releaseMetrics(meter);
    for (const phase of ['Succeeded', 'RolledBack', 'Failed', 'Aborted', 'Inconclusive'] as const)
      metrics.regionEnded({ name: 'eu-west', phase });
    metrics.regionRolledBack('us-west', 'release');
    expect(meter.recorded.map((m) => [m.name, m.tags])).toEqual([
      ['meridian_regions_deployed_total', { region: 'eu-west' }],
      ['meridian_regions_rolled_back_total', { region: 'eu-west', by: 'region' }],
      ['meridian_regions_rolled_back_total', { region: 'us-west', by: 'release' }],
    ]);
  });

  it('records time to halt and bake durations in whole milliseconds, never negative', () => {
    const meter = recordingMeter();
    const metrics = releaseMetrics(meter);
    metrics.timeToHalt(1234.6, 'eu-west', 'rollback-region');
    metrics.bakeEnded(-5, 'us-east-canary', 'passed');
    expect(meter.recorded).toEqual([
      {
        name: 'meridian_time_to_halt_ms',
        kind: 'histogram',
        unit: 'ms',
        value: 1235,
        tags: { region: 'eu-west', onFailure: 'rollback-region' },
      },
      {
        name: 'meridian_bake_duration_ms',
        kind: 'histogram',
        unit: 'ms',
        value: 0,
        tags: { region: 'us-east-canary', outcome: 'passed' },
      },
    ]);
  });
});
