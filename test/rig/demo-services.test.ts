import { AppsV1Api } from '@kubernetes/client-node';
import { serverSideApply } from '../../src/infra/kubernetes/server-side-apply';
import { assessRollout } from '../../src/domain/deployment-rollout';
import { prometheusUrl } from '../../src/rig/prometheus-server';
import { eventually } from '../support/eventually';
import { theRig } from '../support/rig';

const rig = theRig();
// A region of the example release whose namespace no other test of the rig uses.
const region = rig.regions.find((r) => r.name === 'sa-east')!;
const kc = rig.kube(region.context);
const base = `http://127.0.0.1:${region.port}`;

function shopApi(version: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: region.deployment, namespace: region.namespace },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: region.deployment } },
      template: {
        metadata: { labels: { app: region.deployment } },
        spec: { containers: [{ name: 'api', image: `127.0.0.1:5101/shop/api:${version}` }] },
      },
    },
  };
}

async function rollOut(version: string): Promise<void> {
  await serverSideApply(kc, [shopApi(version)]);
  await eventually(async () => {
    const d = await kc
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ name: region.deployment, namespace: region.namespace });
    return assessRollout(d).state === 'complete' ? true : undefined;
  }, `shop-api ${version} to roll out in ${region.name}`);
}

async function reportedVersion(): Promise<string | null> {
  const body = (await (await fetch(`${base}/version`)).json()) as { version: string | null };
  return body.version;
}

async function search(q: string): Promise<{ status: number; query?: string; version?: string }> {
  const res = await fetch(`${base}/search?q=${encodeURIComponent(q)}`);
  return { status: res.status, ...((await res.json()) as object) };
}

describe(`the demo service of ${region.name}`, () => {
  beforeAll(async () => {
    await serverSideApply(kc, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: region.namespace } }]);
    // A release may have left its own shop-api here (another selector, which is immutable): start clean.
    const apps = kc.makeApiClient(AppsV1Api);
    await apps
      .deleteNamespacedDeployment({
        name: region.deployment,
        namespace: region.namespace,
        propagationPolicy: 'Foreground',
      })
      .catch(() => undefined);
    await eventually(async () => {
      try {
        await apps.readNamespacedDeployment({ name: region.deployment, namespace: region.namespace });
        return undefined;
      } catch {
        return true;
      }
    }, 'the previous shop-api Deployment to be gone');
  });

  afterAll(async () => {
    await kc
      .makeApiClient(AppsV1Api)
      .deleteNamespacedDeployment({ name: region.deployment, namespace: region.namespace })
      .catch(() => undefined);
  });

  it('reports and behaves as the version its cluster runs, and heals when the bad version is rolled back', async () => {
    await rollOut('2.3.9');
    // At once: as soon as the Deployment has rolled out, the endpoint serves it (checks run right then).
    expect(await search('결제')).toMatchObject({ status: 200, query: '결제', version: '2.3.9' });
    expect(await reportedVersion()).toBe('2.3.9');

    // The rig config marks 2.4.3-mojibake as mangling Hangul: the region really breaks.
    await rollOut('2.4.3-mojibake');
    await eventually(
      async () => ((await reportedVersion()) === '2.4.3-mojibake' ? true : undefined),
      'the service to report 2.4.3-mojibake',
    );
    await eventually(async () => {
      const r = await search('결제');
      return r.version === '2.4.3-mojibake' ? r : undefined;
    }, 'a request served by 2.4.3-mojibake').then((r) => expect(r.query).toBe('??'));

    // Rolling back heals it.
    await rollOut('2.3.9');
    await eventually(
      async () => ((await reportedVersion()) === '2.3.9' ? true : undefined),
      'the service to report 2.3.9 again',
    );
    await eventually(async () => {
      const r = await search('결제');
      return r.version === '2.3.9' && r.query === '결제' ? r : undefined;
    }, 'requests served correctly again');
  });

  it('answers with errors while a version marked bad runs', async () => {
    await rollOut('2.4.1-bad');
    await eventually(
      async () => ((await reportedVersion()) === '2.4.1-bad' ? true : undefined),
      'the service to report 2.4.1-bad',
    );
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await fetch(`${base}/healthz`)).status);
    // errorRate 0.5 in examples/rig.yaml: 30 requests without a single 500 would happen once in a billion runs.
    expect(statuses).toContain(500);
    expect(statuses.every((s) => s === 200 || s === 500)).toBe(true);
  });

  it('tells since when the region misbehaves, in /version and to Prometheus, so a test can time the reaction', async () => {
    // 2.4.1-bad is rolled out by the test above.
    const body = (await (await fetch(`${base}/version`)).json()) as { version: string; misbehavingSince?: string };
    expect(body.version).toBe('2.4.1-bad');
    const since = Date.parse(body.misbehavingSince ?? '');
    expect(since).toBeLessThanOrEqual(Date.now());
    expect(Date.now() - since).toBeLessThan(5 * 60_000);
    const query = `demo_misbehaving_since_seconds{region="${region.name}",version="2.4.1-bad"}`;
    const seconds = await eventually(
      async () => {
        const res = (await (
          await fetch(`${prometheusUrl(rig.config)}/api/v1/query?query=${encodeURIComponent(query)}`)
        ).json()) as {
          data: { result: { value: [number, string] }[] };
        };
        return res.data.result.length === 1 ? Number(res.data.result[0].value[1]) : undefined;
      },
      'Prometheus to scrape the misbehaviour gauge',
      20_000,
      500,
    );
    expect(seconds * 1000).toBeCloseTo(since, -1);

    // Rolled back, the region behaves again: /version says so at once.
    await rollOut('2.3.9');
    await eventually(async () => {
      const v = (await (await fetch(`${base}/version`)).json()) as { version: string; misbehavingSince?: string };
      return v.version === '2.3.9' && v.misbehavingSince === undefined ? true : undefined;
    }, 'the service to behave again');
  });
});
