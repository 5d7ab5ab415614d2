import type { ReleaseStatus } from '../../src/domain/release-status';
import {
  imageStep,
  regionChildDetails,
  regionChildSummary,
  regionDetails,
  releaseDetails,
} from '../../src/workflows/timeline';
import { exampleInput } from '../support/fake-activities';

const input = exampleInput('timeline');
const image = input.spec.spec.image;
const euWest = input.spec.spec.regions.find((r) => r.name === 'eu-west')!;
const release = { releaseId: 'timeline', app: 'shop-api', version: '2.4.0', image };

describe('the Web UI timeline', () => {
  it('summarizes a region child by region, version, wave and (on a retry) attempt', () => {
    expect(regionChildSummary({ release, region: euWest, wave: 3, attempt: 1 })).toBe('eu-west: deploy 2.4.0 (wave 3)');
    expect(regionChildSummary({ release, region: euWest, wave: 3, attempt: 2 })).toBe(
      'eu-west: deploy 2.4.0 (wave 3, attempt 2)',
    );
  });

  it('details a region child with its cluster, image by digest, bake and failure policy', () => {
    const details = regionChildDetails({
      release: { ...release, image: { ...image, digest: 'sha256:abcd' } },
      region: euWest,
      wave: 3,
      attempt: 1,
      template: input.template,
      values: {},
      bakeMs: 30 * 60_000,
      onFailure: 'rollback-region',
      analysis: undefined,
    });
    expect(details).toContain(`- image: \`${euWest.registry}/shop/api:2.4.0@sha256:abcd\``);
    expect(details).toContain('- bake: 30m');
    expect(details).toContain('- on failure: rollback-region');
  });

  it('names the image step by how the registry gets the image', () => {
    expect(imageStep(image, 'registry.eu:5000')).toBe('copy shop/api:2.4.0 to registry registry.eu:5000');
    expect(imageStep({ ...image, replication: { mode: 'geo-replicated', timeout: 60_000 } }, 'registry.eu:5000')).toBe(
      'wait for shop/api:2.4.0 to replicate to registry.eu:5000',
    );
    expect(imageStep(image, image.source)).toBe(`verify shop/api:2.4.0 in its source registry ${image.source}`);
  });

  it("shows a release's phase, wave, regions in flight, what failed and what it waits for", () => {
    const status: ReleaseStatus = {
      releaseId: 'timeline',
      app: 'shop-api',
      version: '2.4.0',
      phase: 'Halted',
      wave: 2,
      waves: [
        { regions: ['us-east-canary'], bakeMs: 0 },
        { regions: ['us-west', 'eu-west'], bakeMs: 0 },
      ],
      regions: [
        { name: 'us-east-canary', wave: 1, phase: 'Succeeded', attempts: 1 },
        { name: 'us-west', wave: 2, phase: 'Replicating', attempts: 1, waitingFor: 'the image in registry.us:5000' },
        { name: 'eu-west', wave: 2, phase: 'RolledBack', attempts: 2, error: 'integration checks failed' },
      ],
      waitingFor: 'an operator: resume retries eu-west',
      paused: true,
      actions: [],
    };
    expect(releaseDetails(status)).toBe(
      [
        '**Halted** (paused): shop-api 2.4.0, wave 2 of 2, 1 of 3 regions done',
        '',
        'Waiting for an operator: resume retries eu-west',
        '',
        'In flight:',
        '- us-west (wave 2): Replicating, waiting for the image in registry.us:5000',
        '',
        'Not released:',
        '- eu-west (wave 2): RolledBack, attempt 2: integration checks failed',
      ].join('\n'),
    );
  });

  it("shows a region's phase, its wait and until when", () => {
    const details = regionDetails(
      {
        name: 'eu-west',
        wave: 2,
        phase: 'Baking',
        attempts: 1,
        waitingFor: 'the bake before the next wave',
        until: '2026-01-01T00:30:00.000Z',
      },
      release,
    );
    expect(details).toBe(
      '**Baking**: shop-api 2.4.0 in eu-west, wave 2, attempt 1\n\nWaiting for the bake before the next wave (until 2026-01-01T00:30:00.000Z)',
    );
  });
});
