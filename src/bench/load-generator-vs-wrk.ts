import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { LatencyFigures } from '../domain/load-report';
import { runLoadTest, runUnthrottledLoadTest } from '../infra/load/run-load-test';
import { figure, type Figure, median } from './figures';

/**
 * The load generator's ceiling against wrk's: both run unthrottled with the same connections and duration
 * against the same loopback target, a node:http server in its own process that answers every request with
 * a small JSON body. wrk runs with one thread, as our generator has one. The two take turns for a few
 * rounds and the medians are compared, so that a burst of other work on the machine does not decide it.
 * CPU time per request is compared too: it holds on a machine busy with other work, when rates do not.
 * Then one open-model run at a fixed rate shows what the generator achieves of the rate asked and its
 * latency from each request's intended start beside the latency from the write.
 */

export interface GeneratorRun {
  /** Answered requests per second. */
  rps: number;
  /** Answered requests. */
  requests: number;
  /** Requests without an answer or with a status of 400 or more. */
  errors: number;
  /** CPU time the generator spent per answered request, user and system, in microseconds. */
  cpuUsPerRequest?: number;
  /** CPU time the target spent per answered request, in microseconds. */
  targetCpuUsPerRequest?: number;
}

/** One paced run at a constant arrival rate. */
export interface OpenModelRun {
  /** Requests per second asked for. */
  requestedRps: number;
  /** Answered requests per second. */
  achievedRps: number;
  /** Requests sent and answered or failed. */
  requests: number;
  /** Requests without an answer or with a status of 400 or more. */
  errors: number;
  /** Requests written after their intended start because every connection was busy. */
  late: number;
  /** Latency from each request's intended start (coordinated omission corrected), ms. */
  latencyMs: LatencyFigures;
  /** Latency from each request's write to its answer, ms. */
  serviceLatencyMs: LatencyFigures;
  /** CPU time the generator spent per request, user and system, in microseconds. */
  cpuUsPerRequest: number;
  /** CPU time the target spent per request, in microseconds. */
  targetCpuUsPerRequest?: number;
}

export interface GeneratorComparison {
  connections: number;
  /** Length of each run. */
  durationMs: number;
  /** Each round: our run, then wrk's. */
  rounds: { ours: GeneratorRun; wrk: GeneratorRun }[];
  /** Median requests per second over the rounds. */
  oursRps: number;
  wrkRps: number;
  /** oursRps / wrkRps: the target is 0.8 or more. */
  ratio: number;
  /** Median CPU time per answered request over the rounds, in microseconds (absent where it could not be read). */
  oursCpuUsPerRequest?: number;
  wrkCpuUsPerRequest?: number;
  /** The open-model run, when one was asked for. */
  openModel?: OpenModelRun;
}

export interface ComparisonOptions {
  /** Connections of both generators. Default 10. */
  connections?: number;
  /** Length of each run, whole seconds (wrk's unit). Default 10 s. */
  durationMs?: number;
  /** Turns each generator takes. Default 3. */
  rounds?: number;
  /** Default wrk on PATH (the Debian package installs /usr/bin/wrk). */
  wrkPath?: string;
  /** Requests per second of the open-model run after the rounds, as long as one round; none when absent. */
  openRate?: number;
}

/** The loopback target, run with `node -e` so that it has a core of its own and works from src and dist alike. */
const targetSource = `
const http = require('node:http');
const body = JSON.stringify({ ok: true, service: 'bench-target', items: [1, 2, 3] });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

/**
 * Runs both generators against one target, taking turns, and compares their request rates. Each run also
 * reports the CPU time the generator and the target spent per request: on a machine whose cores are busy
 * with other work those figures hold when the rates do not.
 */
export async function compareWithWrk(options: ComparisonOptions = {}): Promise<GeneratorComparison> {
  const connections = options.connections ?? 10;
  const seconds = Math.max(1, Math.round((options.durationMs ?? 10_000) / 1000));
  const { child, url } = await startTarget();
  try {
    // Warm the target's JIT first, so that neither generator meets it cold.
    await runOurs(url, connections, 1);
    const rounds: GeneratorComparison['rounds'] = [];
    for (let i = 0; i < (options.rounds ?? 3); i++) {
      const ours = await withTargetCpu(child.pid, () => runOurs(url, connections, seconds));
      const wrk = await withTargetCpu(child.pid, () => runWrk(options.wrkPath ?? 'wrk', url, connections, seconds));
      rounds.push({ ours, wrk });
    }
    const oursRps = median(rounds.map((r) => r.ours.rps));
    const wrkRps = median(rounds.map((r) => r.wrk.rps));
    const cpu = (pick: (r: GeneratorComparison['rounds'][number]) => number | undefined) => {
      const values = rounds.map(pick).filter((v): v is number => v !== undefined);
      return values.length ? median(values) : undefined;
    };
    const oursCpuUsPerRequest = cpu((r) => r.ours.cpuUsPerRequest);
    const wrkCpuUsPerRequest = cpu((r) => r.wrk.cpuUsPerRequest);
    const openModel =
      options.openRate === undefined
        ? undefined
        : await runOpenModel(child.pid, url, connections, options.openRate, seconds);
    return {
      connections,
      durationMs: seconds * 1000,
      rounds,
      oursRps,
      wrkRps,
      ratio: oursRps / wrkRps,
      ...(oursCpuUsPerRequest !== undefined ? { oursCpuUsPerRequest } : {}),
      ...(wrkCpuUsPerRequest !== undefined ? { wrkCpuUsPerRequest } : {}),
      ...(openModel ? { openModel } : {}),
    };
  } finally {
    child.kill();
  }
}

/** The bench's lines: the comparison, then the open-model run. */
export function describeGeneratorComparison(c: GeneratorComparison): string {
  const errors = c.rounds.reduce((n, r) => n + r.ours.errors + r.wrk.errors, 0);
  const each = c.rounds.map((r) => `${Math.round(r.ours.rps)} vs ${Math.round(r.wrk.rps)}`).join(', ');
  const us = (v: number | undefined) => (v === undefined ? 'unknown' : `${v.toFixed(1)} us`);
  const targetCpu = (pick: (r: GeneratorComparison['rounds'][number]) => number | undefined) => {
    const values = c.rounds.map(pick).filter((v): v is number => v !== undefined);
    return us(values.length ? median(values) : undefined);
  };
  const lines = [
    `load generator vs wrk, unthrottled, ${c.connections} connections, ${c.rounds.length} rounds of ${c.durationMs / 1000} s each, loopback node:http target in its own process: ` +
      `Meridian median ${Math.round(c.oursRps)} requests/s, wrk -t1 median ${Math.round(c.wrkRps)} requests/s (rounds: ${each}${errors ? `; ${errors} errors` : ''}); ` +
      `ratio ${c.ratio.toFixed(2)}x wrk (target: 0.8x or more). ` +
      `CPU per request, median: Meridian ${us(c.oursCpuUsPerRequest)}, wrk ${us(c.wrkCpuUsPerRequest)}` +
      `${c.oursCpuUsPerRequest !== undefined && c.wrkCpuUsPerRequest !== undefined ? ` (${(c.oursCpuUsPerRequest / c.wrkCpuUsPerRequest).toFixed(2)}x)` : ''}, ` +
      `the target ${targetCpu((r) => r.ours.targetCpuUsPerRequest)} under Meridian and ${targetCpu((r) => r.wrk.targetCpuUsPerRequest)} under wrk`,
  ];
  const o = c.openModel;
  if (o) {
    const ms = (l: LatencyFigures) =>
      `p50 ${fmtMs(l.p50)}, p90 ${fmtMs(l.p90)}, p99 ${fmtMs(l.p99)}, max ${fmtMs(l.max)}`;
    lines.push(
      `open model, ${o.requestedRps} requests/s asked, evenly spaced, ${c.connections} connections, ${c.durationMs / 1000} s: ` +
        `${Math.round(o.achievedRps)} requests/s answered (${(o.achievedRps / o.requestedRps).toFixed(2)}x), ${o.requests} requests, ${o.late} late (every connection busy at their start)${o.errors ? `, ${o.errors} errors` : ''}; ` +
        `latency from the intended start ${ms(o.latencyMs)}; from the write ${ms(o.serviceLatencyMs)}; ` +
        `CPU per request ${us(o.cpuUsPerRequest)}, the target ${us(o.targetCpuUsPerRequest)}`,
    );
  }
  return lines.join('\n');
}

/** The section's figures: rates and CPU per request against wrk's, and the open-model run. */
export function generatorFigures(c: GeneratorComparison): Figure[] {
  const figures = [
    figure(`load generator, ${c.connections} connections`, 'requests/s', c.oursRps, {
      name: 'wrk -t1',
      value: c.wrkRps,
    }),
  ];
  if (c.oursCpuUsPerRequest !== undefined && c.wrkCpuUsPerRequest !== undefined)
    figures.push(
      figure(`load generator, ${c.connections} connections: CPU per request`, 'us', c.oursCpuUsPerRequest, {
        name: 'wrk -t1',
        value: c.wrkCpuUsPerRequest,
      }),
    );
  const o = c.openModel;
  if (o) {
    const name = `load generator, open model at ${o.requestedRps} requests/s`;
    const uncorrected = 'from the write (uncorrected)';
    figures.push(
      figure(`${name}: answered rate`, 'requests/s', o.achievedRps, { name: 'asked', value: o.requestedRps }),
      figure(`${name}: p50 from the intended start`, 'ms', o.latencyMs.p50, {
        name: uncorrected,
        value: o.serviceLatencyMs.p50,
      }),
      figure(`${name}: p99 from the intended start`, 'ms', o.latencyMs.p99, {
        name: uncorrected,
        value: o.serviceLatencyMs.p99,
      }),
      figure(`${name}: late requests`, 'requests', o.late),
    );
  }
  return figures;
}

const fmtMs = (ms: number) => (ms >= 10 ? `${Math.round(ms)} ms` : `${ms.toFixed(2)} ms`);

/** One paced run: the generator's figures with its CPU and the target's. */
async function runOpenModel(
  pid: number | undefined,
  url: string,
  connections: number,
  rate: number,
  seconds: number,
): Promise<OpenModelRun> {
  const targetBefore = processCpuUs(pid);
  const cpu = process.cpuUsage();
  const figures = await runLoadTest({
    endpoint: url,
    requests: [{ method: 'GET', path: '/', headers: {} }],
    rate,
    durationMs: seconds * 1000,
    connections,
  });
  const used = process.cpuUsage(cpu);
  const targetAfter = processCpuUs(pid);
  const failedStatuses = (figures.statuses['4xx'] ?? 0) + (figures.statuses['5xx'] ?? 0);
  return {
    requestedRps: rate,
    achievedRps: figures.throughputRps,
    requests: figures.requests,
    errors: figures.transportErrors + failedStatuses,
    late: figures.lateRequests ?? 0,
    latencyMs: figures.latencyMs,
    serviceLatencyMs: figures.serviceLatencyMs ?? figures.latencyMs,
    cpuUsPerRequest: (used.user + used.system) / figures.requests,
    ...(targetBefore !== undefined && targetAfter !== undefined
      ? { targetCpuUsPerRequest: (targetAfter - targetBefore) / figures.requests }
      : {}),
  };
}

async function runOurs(url: string, connections: number, seconds: number): Promise<GeneratorRun> {
  const cpu = process.cpuUsage();
  const figures = await runUnthrottledLoadTest({
    endpoint: url,
    requests: [{ method: 'GET', path: '/', headers: {} }],
    durationMs: seconds * 1000,
    connections,
  });
  const used = process.cpuUsage(cpu);
  const answered = Object.values(figures.statuses).reduce((a, b) => a + b, 0);
  const failedStatuses = (figures.statuses['4xx'] ?? 0) + (figures.statuses['5xx'] ?? 0);
  return {
    rps: figures.throughputRps,
    requests: answered,
    errors: figures.transportErrors + failedStatuses,
    cpuUsPerRequest: (used.user + used.system) / answered,
  };
}

/** Adds the CPU time the target spent per request during a run, from /proc (absent elsewhere). */
async function withTargetCpu(pid: number | undefined, run: () => Promise<GeneratorRun>): Promise<GeneratorRun> {
  const before = processCpuUs(pid);
  const result = await run();
  const after = processCpuUs(pid);
  return before === undefined || after === undefined
    ? result
    : { ...result, targetCpuUsPerRequest: (after - before) / result.requests };
}

/** User and system CPU time of a process in microseconds, from /proc/PID/stat (in ticks of 1/100 s). */
function processCpuUs(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

async function startTarget(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['-e', targetSource], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await Promise.race([once(child.stdout!, 'data'), once(child, 'exit').then(() => [undefined])])) as [
    Buffer | undefined,
  ];
  const port = Number(chunk?.toString().trim());
  if (!port) {
    child.kill();
    throw new Error('the bench target did not start');
  }
  return { child, url: `http://127.0.0.1:${port}` };
}

/**
 * Runs wrk and reads its summary: `N requests in Xs`, `Requests/sec: R`, and any errors it lists. bash's
 * `times` after it prints the CPU time wrk used, which Node does not report for a child.
 */
async function runWrk(wrkPath: string, url: string, connections: number, seconds: number): Promise<GeneratorRun> {
  let stdout: string;
  try {
    const args = ['-t1', `-c${connections}`, `-d${seconds}s`, `${url}/`];
    ({ stdout } = await promisify(execFile)('bash', ['-c', '"$0" "$@" && times', wrkPath, ...args], {
      timeout: (seconds + 30) * 1000,
    }));
  } catch (err) {
    throw new Error(`wrk did not run (${(err as Error).message}): install the Debian package wrk`);
  }
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  if (!Number.isFinite(rps) || !Number.isFinite(requests)) throw new Error(`wrk printed no request rate:\n${stdout}`);
  const socketErrors =
    /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/
      .exec(stdout)
      ?.slice(1)
      .reduce((a, n) => a + Number(n), 0) ?? 0;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  // `times` prints the shell's user and system time, then its children's: `0m1.234s 0m2.345s`.
  const children = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(stdout);
  const cpuUs = children
    ? (Number(children[1]) * 60 + Number(children[2]) + Number(children[3]) * 60 + Number(children[4])) * 1e6
    : undefined;
  return {
    rps,
    requests,
    errors: socketErrors + non2xx,
    ...(cpuUs !== undefined ? { cpuUsPerRequest: cpuUs / requests } : {}),
  };
}
