import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { approveUpdate } from '../../workflows/definitions';
import { defaultRigConfigFile, loadRigConfig, rigLayout } from '../../rig/rig-config';
import { rigUp } from '../../rig/rig';
import { readPowerDnsApiKey } from '../../rig/rig-credentials';
import { createLogger } from '../../worker/logger';
import { createMeridianWorker } from '../../worker/run-worker';
import type { CommandContext } from '../command';
import { connectClient, workflowUrl } from '../temporal';
import { helmPath } from './render';
import { startCommand } from './start';
import { watchRelease } from './watch';
import { releaseIdOf, loadRelease } from '../../infra/release-files/release-file';
import { writeDemoSpec } from '../../infra/release-files/demo-spec';

/**
 * `meridian demo`: brings the local rig up, runs a worker, and takes the example release around the
 * world with short bakes, approving its gate as the demo's operator and showing progress throughout.
 */
export async function demoCommand(
  values: { file?: string; version?: string; bake: number; canarySoak: number; rig?: string },
  _args: string[],
  ctx: CommandContext,
): Promise<number> {
  const say = (line: string) => ctx.out(`== ${line}\n`);
  const config = loadRigConfig(values.rig ?? defaultRigConfigFile());
  const layout = rigLayout(ctx.env);
  say('bringing the local rig up (Temporal dev server, 3 Kubernetes clusters, demo services)');
  await rigUp(config, layout, (line) => ctx.out(`   ${line}\n`));
  const env = { ...ctx.env, KUBECONFIG: layout.kubeconfig };

  const version = values.version ?? `2.4.0-demo.${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;
  const specFile = writeDemoSpec(
    resolve(values.file ?? resolve(defaultRigConfigFile(), '..', 'release.yaml')),
    version,
    layout.dir,
  );
  allowNoisyLatency(specFile);
  const releaseId = releaseIdOf(loadRelease(specFile).spec);

  // The example's spec.traffic reads the DNS API key from this variable: the rig's key, unless one is set.
  process.env.MERIDIAN_POWERDNS_API_KEY ??= readPowerDnsApiKey(layout.dir);
  say('starting a Meridian worker');
  const { worker, connection } = await createMeridianWorker({
    address: `127.0.0.1:${config.temporal.port}`,
    namespace: config.temporal.namespace,
    helmPath: helmPath(env),
    kubeconfigFile: layout.kubeconfig,
    logger: createLogger(ctx.env.MERIDIAN_LOG_LEVEL ?? 'warn'),
  });
  const running = worker.run();
  try {
    say(`starting release ${releaseId}`);
    const startCode = await startCommand(
      {
        file: specFile,
        bake: values.bake,
        canarySoak: values.canarySoak,
        loadDuration: 5_000,
        analysisInterval: 2_000,
      },
      [],
      { ...ctx, env },
    );
    if (startCode !== 0) return startCode;
    const { client, close, target } = await connectClient(env);
    try {
      ctx.out(`   follow it in the Web UI: ${workflowUrl(target.uiUrl, target.namespace, releaseId)}\n`);
      const approvedGates = new Set<string>();
      const code = await watchRelease(client, releaseId, ctx, {
        onStatus: async (status) => {
          if (status.phase === 'WaitingForApproval' && status.gate && !approvedGates.has(status.gate)) {
            approvedGates.add(status.gate);
            ctx.out(
              `   (demo) approving gate ${status.gate}, as an operator would with: meridian approve ${releaseId}\n`,
            );
            await client.workflow
              .getHandle(releaseId)
              .executeUpdate(approveUpdate, { args: [{ gate: status.gate, by: 'meridian-demo', reason: 'demo' }] });
          }
        },
      });
      say(code === 0 ? `release ${releaseId} reached every region` : `release ${releaseId} did not succeed`);
      ctx.out(`   the rig stays up: \`meridian dev status\`, \`meridian dev down\` to stop it\n`);
      return code;
    } finally {
      await close();
    }
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
  }
}

/**
 * A demo runs on one busy machine, where a five-second load test's p99 swings by tens of percent from
 * run to run: the demo's copy of the spec lets latency double against the last demo before it fails.
 */
function allowNoisyLatency(specFile: string): void {
  const doc = parseDocument(readFileSync(specFile, 'utf8'));
  const path = ['spec', 'validation', 'load', 'thresholds', 'regression'];
  if (!doc.hasIn(path)) return;
  for (const key of ['p50', 'p90', 'p99', 'max']) if (doc.hasIn([...path, key])) doc.setIn([...path, key], '100%');
  writeFileSync(specFile, doc.toString());
}
