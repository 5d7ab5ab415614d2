import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { activityMetricNames, countImageCopyBytes } from '../../src/activities/activity-metrics';
import { createActivities } from '../../src/activities/region-activities';
import type { ReplicatedImage } from '../../src/domain/image-replication';
import type { ReleaseRef } from '../../src/domain/release-input';
import { type PushedDemoImage, pushDemoImage } from '../../src/rig/demo-image';
import { startTestRegistry, type TestRegistry } from '../support/registry';
import { recordingMeter } from './recording-meter';

describe('activity metrics', () => {
  it('are named meridian_*, in the Prometheus counter form', () => {
    for (const name of Object.values(activityMetricNames)) expect(name).toMatch(/^meridian_[a-z_]+_total$/);
  });

  it("count copied bytes through the running activity's meter, tagged with the registry; nothing for zero bytes", async () => {
    const meter = recordingMeter();
    await new MockActivityEnvironment({}, { metricMeter: meter }).run(async () => {
      countImageCopyBytes(2048, 'registry.eu.example:5000');
      countImageCopyBytes(0, 'registry.eu.example:5000');
    });
    expect(meter.recorded).toEqual([
      {
        name: 'meridian_image_copy_bytes_total',
        kind: 'counter',
        unit: 'bytes',
        value: 2048,
        tags: expect.objectContaining({ registry: 'registry.eu.example:5000' }),
      },
    ]);
  });

  it('emit nothing, and do not fail, outside an activity (the bench, unit tests)', () => {
    expect(() => countImageCopyBytes(10, 'registry.eu.example:5000')).not.toThrow();
  });
});

describe('the replicateImage activity', () => {
  let source: TestRegistry;
  let target: TestRegistry;
  let image: PushedDemoImage;
  const activities = createActivities({ helmPath: 'helm', logger: pino({ level: 'silent' }), secrets: [] });
  const release = (): ReleaseRef => ({
    releaseId: 'release-shop-api-2.4.0',
    app: 'shop-api',
    version: '2.4.0',
    image: { name: 'shop/api', tag: '2.4.0', source: source.host, replication: { mode: 'copy', timeout: 5_000 } },
  });

  beforeAll(async () => {
    [source, target] = await Promise.all([startTestRegistry(), startTestRegistry()]);
    image = await pushDemoImage({
      registry: source.host,
      repository: 'shop/api',
      tag: '2.4.0',
      seed: 'activity-metrics.test',
    });
  });

  afterAll(async () => {
    await Promise.all([source?.stop(), target?.stop()]);
  });

  it('counts every byte it copies into the target, once: a copy of what is already there adds nothing', async () => {
    const meter = recordingMeter();
    const env = new MockActivityEnvironment({}, { metricMeter: meter });
    const copy = (): Promise<ReplicatedImage> =>
      env.run(activities.replicateImage, { release: release(), registry: target.host });
    const first = await copy();
    const bytes = () =>
      meter.recorded.filter((m) => m.name === activityMetricNames.imageCopyBytes).reduce((sum, m) => sum + m.value, 0);
    expect(first.how).toBe('copied');
    expect(bytes()).toBe(image.bytes);
    expect(first.blobs.bytesCopied).toBe(image.bytes);
    expect(meter.recorded.every((m) => m.tags.registry === target.host)).toBe(true);
    await copy();
    expect(bytes()).toBe(image.bytes);
  });
});
