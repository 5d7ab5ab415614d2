import { parse } from 'yaml';
import {
  prometheusArgs,
  prometheusConfigText,
  prometheusReady,
  prometheusTargets,
  prometheusUrl,
  startPrometheus,
} from '../../src/rig/prometheus-server';
import { rigConfigSchema } from '../../src/rig/rig-config';
import { eventually } from '../support/eventually';
import { theRig } from '../support/rig';

const rig = theRig();
const url = prometheusUrl(rig.config);

async function query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
  return body.data.result;
}

/** The single value of a query that must return one series. */
async function scalar(promql: string): Promise<number> {
  const result = await query(promql);
  if (result.length !== 1) throw new Error(`${promql}: expected one series, got ${result.length}`);
  return Number(result[0].value[1]);
}

describe("Prometheus' config", () => {
  const config = {
    ...rigConfigSchema.parse({ clusters: [{ context: 'c' }], release: 'r.yaml', prometheus: { port: 9999 } }),
    file: '/x/rig.yaml',
  };
  const layout = { ...rig.layout, prometheusConfig: '/rig/prometheus.yml', prometheusData: '/rig/prometheus' };

  it('scrapes each demo service every second, with a timeout below that, labelled with its region', () => {
    const doc = parse(prometheusConfigText(config, rig.regions)) as {
      global: { scrape_interval: string; scrape_timeout: string };
      scrape_configs: {
        job_name: string;
        honor_labels: boolean;
        static_configs: { targets: string[]; labels: { region: string } }[];
      }[];
    };
    expect(doc.global.scrape_interval).toBe('1s');
    expect(doc.global.scrape_timeout).toBe('800ms');
    const [job] = doc.scrape_configs;
    expect(job.honor_labels).toBe(true);
    expect(job.static_configs).toEqual(
      rig.regions.map((r) => ({ targets: [`127.0.0.1:${r.port}`], labels: { region: r.name } })),
    );
  });

  it("scrapes the Meridian workers' metrics addresses as their own job", () => {
    const doc = parse(prometheusConfigText(config, rig.regions)) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const workers = doc.scrape_configs.find((j) => j.job_name === 'meridian-workers');
    expect(workers?.static_configs).toEqual([{ targets: ['127.0.0.1:9464', '127.0.0.1:9465'] }]);
    expect(() =>
      rigConfigSchema.parse({
        clusters: [{ context: 'c' }],
        release: 'r.yaml',
        prometheus: { workerMetrics: ['10.0.0.1:9464'] },
      }),
    ).toThrow(/127\.0\.0\.1:PORT/);
  });

  it('listens on loopback at the configured port and keeps one day of data in the rig dir', () => {
    expect(rigConfigSchema.parse({ clusters: [{ context: 'c' }], release: 'r.yaml' }).prometheus.port).toBe(9090);
    expect(prometheusArgs(config, layout)).toEqual(
      expect.arrayContaining([
        '--config.file=/rig/prometheus.yml',
        '--storage.tsdb.path=/rig/prometheus',
        '--storage.tsdb.retention.time=1d',
        '--web.listen-address=127.0.0.1:9999',
      ]),
    );
    expect(prometheusConfigText(config, rig.regions)).toContain('http://127.0.0.1:9999');
  });
});

describe("the rig's Prometheus", () => {
  const region = rig.regions.find((r) => r.name === 'us-west')!;

  it('is ready, and keeps running when `dev up` starts it again with the same config', async () => {
    expect(await prometheusReady(url)).toBe(true);
    const again = await startPrometheus(rig.config, rig.layout, rig.regions);
    expect(again.started).toBe(false);
  });

  it('scrapes every demo service', async () => {
    const targets = await eventually(
      async () => {
        const t = await prometheusTargets(url);
        return t.up === rig.regions.length ? t : undefined;
      },
      'every demo service to answer its scrape',
      20_000,
      500,
    );
    expect(targets.total).toBe(rig.regions.length);
    expect(await scalar(`up{job="demo-services",region="${region.name}"}`)).toBe(1);
  });

  it('answers the queries of load tests and bake analysis: requests, error rate, CPU and memory per region', async () => {
    const requests = await eventually(
      async () => {
        const n = await scalar(`sum(increase(demo_http_requests_total{region="${region.name}"}[1m]))`);
        return n > 0 ? n : undefined;
      },
      `requests counted in ${region.name}`,
      30_000,
      1_000,
    );
    expect(requests).toBeGreaterThan(0);

    const errorRate = await scalar(
      `(sum(rate(demo_http_requests_total{region="${region.name}",code=~"5.."}[15s])) or vector(0)) / sum(rate(demo_http_requests_total{region="${region.name}"}[15s]))`,
    );
    expect(errorRate).toBeGreaterThanOrEqual(0);
    expect(errorRate).toBeLessThanOrEqual(1);

    const cpu = await eventually(
      async () => {
        const cores = await scalar(`sum(rate(process_cpu_seconds_total{region="${region.name}"}[15s]))`);
        return cores > 0 ? cores : undefined;
      },
      'the CPU use of the demo services',
      30_000,
      1_000,
    );
    expect(cpu).toBeLessThan(4);
    const memory = await scalar(`max(process_resident_memory_bytes{region="${region.name}"})`);
    expect(memory).toBeGreaterThan(20 * 1024 * 1024);
    // One process serves every region: each region reports the same figures.
    const perRegion = await query('process_resident_memory_bytes{job="demo-services"}');
    expect(perRegion.map((r) => r.metric.region).sort()).toEqual(rig.regions.map((r) => r.name).sort());
  });
});
