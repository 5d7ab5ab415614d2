import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { tsToMs } from '@temporalio/common/lib/time';
import type { TrafficView } from '../../src/client/commands/traffic';
import type { TrafficSpec } from '../../src/domain/traffic-spec';
import { queryDns } from '../../src/infra/traffic/dns-query';
import { loadRelease } from '../../src/infra/release-files/release-file';
import type { UserTrafficState } from '../../src/rig/user-traffic';
import { meridian } from '../support/cli';
import { eventually } from '../support/eventually';
import {
  deployedImages,
  idOf,
  keepRegions,
  noGate,
  rig,
  rigEnv,
  specFor,
  spawnWorker,
  statusWhen,
  stopWorker,
  temporalClient,
  workerLogDir,
} from '../support/e2e';

/**
 * Releases that steer the example's hostname on the rig's PowerDNS (spec.traffic: drain during deploy,
 * ramp 10% / 50% / 100% while baking, drain on rollback), proven with real DNS questions carrying each
 * client location's subnet (EDNS Client Subnet).
 */
const stamp = Date.now().toString(36);
const env = rigEnv();
let worker: ChildProcess;
let client: Client;
let closeClient: () => Promise<void>;
const releases: string[] = [];

const regions = ['us-east-canary', 'us-west', 'ap-northeast-2'];
const trafficSpec = (version: string, edit: Parameters<typeof specFor>[1] = () => undefined) =>
  specFor(
    version,
    (doc) => {
      keepRegions(doc, regions);
      noGate(doc);
      edit(doc);
    },
    { traffic: true },
  );
const trafficOf = (file: string): TrafficSpec => loadRelease(file).spec.spec.traffic!;

/** The region whose address the hostname answered a client with. */
async function answered(traffic: TrafficSpec, client: string): Promise<string | undefined> {
  const subnet = traffic.clients.find((c) => c.name === client)!.subnet;
  const answer = await queryDns(traffic.provider.powerdns!.nameservers[0], {
    name: traffic.hostname,
    clientSubnet: subnet,
  });
  const owner = Object.entries(traffic.regions).find(([, r]) => answer.addresses.some((a) => r.addresses.includes(a)));
  return owner?.[0];
}

async function trafficView(file: string): Promise<TrafficView> {
  const shown = await meridian(['traffic', '-f', file, '--json'], { env });
  expect(shown).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(shown.stdout) as TrafficView;
}

/** When a region workflow's traffic steps were scheduled and completed, with the share each set. */
async function steerEvents(
  workflowId: string,
): Promise<{ share: number; scheduledMs: number; completedMs?: number }[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, { share: number; scheduledMs: number; completedMs?: number }>();
  for (const event of history.events ?? []) {
    const attrs = event.activityTaskScheduledEventAttributes;
    if (attrs?.activityType?.name === 'steerRegion') {
      const input = defaultPayloadConverter.fromPayload<{ share: number }>(attrs.input!.payloads![0]);
      scheduled.set(String(event.eventId), { share: input.share, scheduledMs: tsToMs(event.eventTime!) });
    }
    const done = event.activityTaskCompletedEventAttributes;
    const step = done && scheduled.get(String(done.scheduledEventId));
    if (step) step.completedMs = tsToMs(event.eventTime!);
  }
  return [...scheduled.values()];
}

beforeAll(async () => {
  worker = spawnWorker('worker-traffic');
  ({ client, close: closeClient } = await temporalClient());
});

/** The rig's own release: its traffic section names every region the rig's synthetic users can reach. */
const exampleFile = resolve(__dirname, '..', '..', 'examples', 'release.yaml');

afterAll(async () => {
  await stopWorker(worker);
  await closeClient();
  // The releases here answer the hostname with three regions, and may leave one drained: the rig's users
  // follow the answers, so give them back the rig release's answers, each region this file drained restored.
  const view = await trafficView(exampleFile).catch(() => undefined);
  const drainedHere = (view?.regions ?? []).filter(
    (r) => r.mode !== 'in' && ((r.release && releases.includes(r.release)) || r.reason?.startsWith('e2e:')),
  );
  for (const region of drainedHere.length ? drainedHere.map((r) => r.name) : ['ap-northeast-2'])
    await meridian(['traffic', 'restore', region, '-f', exampleFile, '--reason', 'e2e: leave the rig as found'], {
      env,
    });
});

describe('traffic steering on the local rig', () => {
  it('keeps a region rolled back for a bad version out of the answers: its users get the next closest', async () => {
    const bad = `2.4.6-seoul.traffic-${stamp}`; // examples/rig.yaml: mangles Hangul, only in ap-northeast-2
    const file = trafficSpec(bad);
    const traffic = trafficOf(file);
    releases.push(idOf(bad));
    expect((await meridian(['start', '-f', file, '--bake', '1s', '--canary-soak', '1s'], { env })).code).toBe(0);
    const halted = await statusWhen(client, idOf(bad), (s) => s.phase === 'Halted', 'the halt in Seoul', 240_000);
    expect(halted.regions.find((r) => r.name === 'ap-northeast-2')).toMatchObject({
      phase: 'RolledBack',
      traffic: { mode: 'drained', share: 0 },
    });
    const view = await trafficView(file);
    expect(view.regions.find((r) => r.name === 'ap-northeast-2')).toMatchObject({
      mode: 'drained',
      release: idOf(bad),
      reason: expect.stringMatching(/^drained after failing: integration checks failed/),
    });
    // Seoul's users go to the closest region still in service, and nobody is sent to the drained one.
    expect(view.clients.find((c) => c.name === 'seoul')).toMatchObject({ answered: 'us-west', expected: ['us-west'] });
    for (let i = 0; i < 20; i++) expect(await answered(traffic, 'seoul')).toBe('us-west');
    expect((await meridian(['abort', idOf(bad), '--reason', 'seen enough'], { env })).code).toBe(0);
  }, 300_000);

  it('drains a region before it deploys, never answers with it until its ramp, ramps it, and brings it back for good', async () => {
    const good = `2.5.20-traffic.${stamp}`;
    const file = trafficSpec(good, (doc) =>
      doc.setIn(
        ['spec', 'rollout', 'waves'],
        [['us-east-canary'], { regions: ['us-west'], bake: '2s' }, { regions: ['ap-northeast-2'], bake: '30s' }],
      ),
    );
    const traffic = trafficOf(file);
    releases.push(idOf(good));
    const seen: { at: number; region?: string }[] = [];
    let asking = true;
    const loop = (async () => {
      while (asking) {
        seen.push({ at: Date.now(), region: await answered(traffic, 'seoul') });
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      expect((await meridian(['start', '-f', file, '--canary-soak', '2s'], { env })).code).toBe(0);
      // While Seoul answers 10% of its own users: a few hundred questions hold that share.
      await statusWhen(
        client,
        idOf(good),
        (s) => s.regions.some((r) => r.name === 'ap-northeast-2' && r.traffic?.share === 0.1),
        'Seoul at 10%',
        240_000,
      );
      const burst: (string | undefined)[] = [];
      for (let i = 0; i < 300; i++) burst.push(await answered(traffic, 'seoul'));
      const share = burst.filter((r) => r === 'ap-northeast-2').length / burst.length;
      console.log(
        `ramp 10%: Seoul answered ${(share * 100).toFixed(1)}% of 300 questions, the rest ${[...new Set(burst.filter((r) => r !== 'ap-northeast-2'))].join(', ')}`,
      );
      // 300 draws at p = 0.1: a standard deviation of 1.7 points; 3% to 20% is beyond 4 of them.
      expect(share).toBeGreaterThan(0.03);
      expect(share).toBeLessThan(0.2);
      expect(new Set(burst)).toEqual(new Set(['ap-northeast-2', 'us-west']));
      await statusWhen(client, idOf(good), (s) => s.phase === 'Succeeded', 'the release to succeed', 240_000);
    } finally {
      asking = false;
      await loop;
    }
    const steps = await steerEvents(`${idOf(good)}.ap-northeast-2.1`);
    expect(steps.map((s) => s.share)).toEqual([0, 0.1, 0.5, 1]);
    const drained = steps[0].completedMs!;
    const ramped = steps[1].scheduledMs;
    const between = seen.filter((q) => q.at > drained && q.at < ramped);
    console.log(
      `drain: ${between.length} questions for Seoul's users between the drain and the ramp (${((ramped - drained) / 1000).toFixed(1)} s), none answered with Seoul`,
    );
    expect(between.length).toBeGreaterThan(20);
    expect(between.filter((q) => q.region === 'ap-northeast-2')).toEqual([]);
    expect(between.every((q) => q.region === 'us-west')).toBe(true);
    // After its bake: every client location gets its closest healthy region, Seoul's users Seoul again.
    const view = await trafficView(file);
    expect(view.regions.map((r) => [r.name, r.mode, r.health])).toEqual(regions.map((r) => [r, 'in', 'up']));
    for (const c of view.clients) expect(c.expected).toContain(c.answered);
    expect(view.clients.find((c) => c.name === 'seoul')?.answered).toBe('ap-northeast-2');
    for (let i = 0; i < 20; i++) expect(await answered(traffic, 'seoul')).toBe('ap-northeast-2');
  }, 400_000);

  it('fails the first region with the reason when the DNS API does not answer, its cluster untouched', async () => {
    const version = `2.5.21-dnsdown.${stamp}`;
    const before = (await deployedImages())['us-east-canary'];
    const file = trafficSpec(version, (doc) =>
      doc.setIn(['spec', 'traffic', 'provider', 'powerdns', 'api'], 'http://127.0.0.1:1'),
    );
    releases.push(idOf(version));
    expect((await meridian(['start', '-f', file, '--bake', '1s', '--canary-soak', '1s'], { env })).code).toBe(0);
    const halted = await statusWhen(
      client,
      idOf(version),
      (s) => s.phase === 'Halted',
      'the halt at the canary',
      180_000,
    );
    const canary = halted.regions.find((r) => r.name === 'us-east-canary')!;
    expect(canary.phase).toBe('Failed');
    expect(canary.error).toMatch(/PowerDNS API at http:\/\/127\.0\.0\.1:1 did not answer/);
    expect((await deployedImages())['us-east-canary']).toEqual(before);
    expect((await meridian(['abort', idOf(version), '--reason', 'seen enough'], { env })).code).toBe(0);
  }, 240_000);

  it('never writes the DNS API key into a workflow history or a worker log', async () => {
    const key = env.MERIDIAN_POWERDNS_API_KEY!;
    expect(key.length).toBeGreaterThan(16);
    let histories = 0;
    for (const id of releases) {
      for (const workflowId of [id, ...regions.map((r) => `${id}.${r}.1`)]) {
        const history = await client.workflow
          .getHandle(workflowId)
          .fetchHistory()
          .catch(() => undefined);
        if (!history) continue;
        histories++;
        expect(historyToJSON(history)).not.toContain(key);
      }
    }
    expect(histories).toBeGreaterThan(releases.length);
    const logs = readdirSync(workerLogDir).filter((f) => f.startsWith('worker-traffic'));
    expect(logs.length).toBeGreaterThan(0);
    for (const log of logs) expect(readFileSync(join(workerLogDir, log), 'utf8')).not.toContain(key);
  });
});

describe("the rig's synthetic users on the hostname", () => {
  const seoul = rig.regions.find((r) => r.name === 'ap-northeast-2')!;

  async function users(): Promise<UserTrafficState> {
    return (await (await fetch(`http://127.0.0.1:${seoul.port}/_rig/user-traffic`)).json()) as UserTrafficState;
  }

  /** Requests a region's service answered so far (its own users', and any others'), from its /metrics. */
  async function answeredBy(region: string): Promise<number> {
    const port = rig.regions.find((r) => r.name === region)!.port;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return text
      .split('\n')
      .filter((l) => l.startsWith('demo_http_requests_total{'))
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  }

  /** Requests sent by Seoul's users per region so far. */
  const sentTo = (state: UserTrafficState) =>
    Object.fromEntries(Object.entries(state.byRegion).map(([r, c]) => [r, c.sent]));
  /** Requests sent per region between two readings (regions that got none left out). */
  const since = (from: Record<string, number>, to: Record<string, number>) =>
    Object.fromEntries(
      Object.entries(to)
        .map(([r, n]) => [r, n - (from[r] ?? 0)] as const)
        .filter(([, n]) => n > 0),
    );

  /**
   * Waits until Seoul's users have let go of every other answer (no resolver holds one naming another
   * region) and, over one poll interval (1 s), sent requests to `region` only: at least three, none
   * elsewhere. Returns the counts when that held.
   */
  async function usersSettleOn(region: string, what: string): Promise<Record<string, number>> {
    let last = sentTo(await users());
    return eventually(
      async (saw) => {
        const state = await users();
        const now = sentTo(state);
        const delta = saw(since(last, now));
        last = now;
        const holdingOthers = Object.keys(state.dns?.holding ?? {}).filter((r) => r !== region);
        const elsewhere = Object.keys(delta).filter((r) => r !== region);
        return (delta[region] ?? 0) >= 3 && elsewhere.length === 0 && holdingOthers.length === 0 ? now : undefined;
      },
      what,
      60_000,
      1_000,
    );
  }

  /** What Seoul's users send over the next `ms` (no bound on the time asserted: only where the requests went). */
  async function sentDuring(ms: number): Promise<Record<string, number>> {
    const from = sentTo(await users());
    await new Promise((r) => setTimeout(r, ms));
    return since(from, sentTo(await users()));
  }

  it('go to the next-closest region while theirs is drained, are answered there, and come back after the restore', async () => {
    const before = await users();
    expect(before).toMatchObject({
      resolve: 'dns',
      dns: { hostname: 'shop.example.test', population: { name: 'seoul', subnet: '198.18.5.0/24' } },
    });
    // The rig release's answers (all eight regions), Seoul in them: what its users see on a quiet rig.
    const restored = await meridian(['traffic', 'restore', seoul.name, '-f', exampleFile, '--reason', 'e2e: users'], {
      env,
    });
    expect(restored.code).toBe(0);
    const view = await trafficView(exampleFile);
    const seoulNow = view.regions.find((r) => r.name === seoul.name);
    if (seoulNow?.health !== 'up')
      throw new Error(
        `${seoul.name} must run the app for its users to reach it (the release above deploys it); the DNS server sees it ${seoulNow?.health}`,
      );
    expect(seoulNow.mode).toBe('in');
    const atRestore = sentTo(await users());
    const home = since(atRestore, await usersSettleOn(seoul.name, "Seoul's users to reach Seoul only"));
    const homeHeld = await sentDuring(5_000);
    expect(Object.keys(homeHeld)).toEqual([seoul.name]);

    let drained: Record<string, number> | undefined;
    let next: string | undefined;
    let received: number | undefined;
    let atBack: Record<string, number> = {};
    let drainedHeld: Record<string, number> = {};
    try {
      const drain = await meridian(
        ['traffic', 'drain', seoul.name, '-f', exampleFile, '--reason', 'e2e: where do its users go'],
        { env },
      );
      expect(drain.code).toBe(0);
      // The next-closest healthy region, as the DNS server answers Seoul's subnet now.
      next = (await trafficView(exampleFile)).clients.find((c) => c.name === 'seoul')?.answered ?? undefined;
      expect(next).toBeDefined();
      expect(next).not.toBe(seoul.name);
      const receivedBefore = await answeredBy(next!);
      const atDrain = sentTo(await users());
      drained = since(
        atDrain,
        await usersSettleOn(next!, `Seoul's users to go to ${next} only (one TTL, 5 s, after the drain)`),
      );
      drainedHeld = await sentDuring(5_000);
      expect(Object.keys(drainedHeld)).toEqual([next]);
      // The region that took them answered them: its own request count grew by at least as many.
      const sentThere = drained[next!] + drainedHeld[next!];
      received = (await answeredBy(next!)) - receivedBefore;
      expect(received).toBeGreaterThanOrEqual(sentThere - ((await users()).byRegion[next!]?.failed ?? 0));
    } finally {
      atBack = sentTo(await users());
      const back = await meridian(
        ['traffic', 'restore', seoul.name, '-f', exampleFile, '--reason', 'e2e: users come back'],
        { env },
      );
      expect(back.code).toBe(0);
    }
    const back = since(
      atBack,
      await usersSettleOn(seoul.name, "Seoul's users to come back to Seoul after the restore"),
    );
    const backHeld = await sentDuring(5_000);
    expect(Object.keys(backHeld)).toEqual([seoul.name]);
    const after = await users();
    console.log(
      `Seoul's users (${after.dns?.population.name}, ${after.dns?.population.subnet}), requests sent per region: ` +
        `in service: until settled ${JSON.stringify(home)}, the 5 s after ${JSON.stringify(homeHeld)}; ` +
        `drained: until settled ${JSON.stringify(drained)}, the 5 s after ${JSON.stringify(drainedHeld)} ` +
        `(${next} answered ${received} requests meanwhile, its own users' included); ` +
        `restored: until settled ${JSON.stringify(back)}, the 5 s after ${JSON.stringify(backHeld)}; ` +
        `DNS lookups ${(after.dns?.lookups ?? 0) - (before.dns?.lookups ?? 0)}, failures ${(after.dns?.failures ?? 0) - (before.dns?.failures ?? 0)}; ` +
        `last answer ${JSON.stringify(after.dns?.lastAnswer)}`,
    );
    expect(back[seoul.name]).toBeGreaterThan(0);
  }, 240_000);
});
