import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { runUnthrottledLoadTest } from '../infra/load/run-load-test';

/**
 * The load generator's ceiling against wrk's: both run unthrottled with the same connections and duration
 * against the same loopback target, a node:http server in its own process that answers every request with
 * a small JSON body. wrk runs with one thread, as our generator has one. The two take turns for a few
 * rounds and the medians are compared, so that a burst of other work on the machine does not decide it.
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
    return { connections, durationMs: seconds * 1000, rounds, oursRps, wrkRps, ratio: oursRps / wrkRps };
  } finally {
    child.kill();
  }
}

/** One line for the bench's output. */
export function describeGeneratorComparison(c: GeneratorComparison): string {
  const errors = c.rounds.reduce((n, r) => n + r.ours.errors + r.wrk.errors, 0);
  const each = c.rounds.map((r) => `${Math.round(r.ours.rps)} vs ${Math.round(r.wrk.rps)}`).join(', ');
  const cpu = (pick: (r: GeneratorComparison['rounds'][number]) => number | undefined) => {
    const values = c.rounds.map(pick).filter((v): v is number => v !== undefined);
    return values.length ? `${median(values).toFixed(1)} us` : 'unknown';
  };
  return (
    `load generator vs wrk, unthrottled, ${c.connections} connections, ${c.rounds.length} rounds of ${c.durationMs / 1000} s each, loopback node:http target in its own process: ` +
    `Meridian (autocannon) median ${Math.round(c.oursRps)} requests/s, wrk -t1 median ${Math.round(c.wrkRps)} requests/s (rounds: ${each}${errors ? `; ${errors} errors` : ''}); ` +
    `ratio ${c.ratio.toFixed(2)}x wrk (target: 0.8x or more). ` +
    `CPU per request, median: Meridian ${cpu((r) => r.ours.cpuUsPerRequest)}, wrk ${cpu((r) => r.wrk.cpuUsPerRequest)}, ` +
    `the target ${cpu((r) => r.ours.targetCpuUsPerRequest)} under Meridian and ${cpu((r) => r.wrk.targetCpuUsPerRequest)} under wrk`
  );
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

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

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
