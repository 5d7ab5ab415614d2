import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { InvalidInputError } from '../../domain/errors';
import type { ReleaseInput } from '../../domain/release-input';
import type { releaseWorkflow } from '../../workflows/release-workflow';
import { releaseWorkflowType, taskQueue } from '../../workflows/definitions';
import { appKey, phaseKey, versionKey } from '../../workflows/search-attributes';
import { parseCommandArgs } from '../args';
import type { CommandContext } from '../command';
import { overrideOptions, overridesFrom, requireFile } from '../options';
import { loadRelease, packReleaseTemplate, releaseIdOf, releaseTimeToSmoke, specHashOf } from '../release-file';
import { packTraffic } from '../../activities/load/packed-traffic';
import { planWarnings } from '../../domain/plan-warnings';
import { planRelease } from '../../domain/rollout-plan';
import { connectClient, operatorName, workflowUrl } from '../temporal';
import { checkSourceImage } from '../source-image';
import { activeFreeze } from './freeze';
import { watchRelease } from './watch';

/**
 * `meridian start -f release.yaml [--wait]`: starts the release, or finds it already started with the
 * same spec (a repeated start from CI is harmless). The same id with a different spec is refused.
 */
export async function startCommand(argv: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseCommandArgs('start', argv, { file: { type: 'string', short: 'f' }, wait: { type: 'boolean' }, ...overrideOptions }, '-f release.yaml [--wait] [--bake D] [--canary-soak D] [--load-duration D] [--analysis-interval D]');
  const release = loadRelease(requireFile('start', values.file));
  const template = packReleaseTemplate(release);
  const spec = release.spec;
  const releaseId = releaseIdOf(spec);
  const specHash = specHashOf(spec, template, release.checks, release.traffic);
  const { timeToSmoke, warnings } = releaseTimeToSmoke(release, Date.now());
  const overrides = overridesFrom(values);
  const plan = planRelease(spec, overrides, timeToSmoke?.ms);
  const imageWarning = await checkSourceImage(spec, ctx.env);
  for (const warning of [...release.warnings, ...warnings, ...planWarnings(spec, plan, overrides), ...(imageWarning ? [imageWarning] : [])]) {
    ctx.err(`warning: ${warning}\n`);
  }
  const input: ReleaseInput = {
    releaseId,
    spec,
    specHash,
    template,
    checks: release.checks,
    ...(release.traffic && spec.spec.regions.some((r) => r.role === 'staging')
      ? { traffic: packTraffic(release.traffic, spec.spec.validation.load!.replay, 'spec.validation.load.replay') }
      : {}),
    overrides,
    plan,
    timeToSmoke,
    requestedBy: operatorName(ctx.env),
  };
  const { client, close, target } = await connectClient(ctx.env);
  try {
    // A freeze refuses new releases; a repeated start of one already running still finds it below.
    const frozen = await activeFreeze(client, spec.metadata.app);
    const exists = frozen ? await client.workflow.getHandle(releaseId).describe().then(() => true, () => false) : false;
    if (frozen && !exists) {
      throw new InvalidInputError(
        `${spec.metadata.app} is frozen${frozen.by ? ` by ${frozen.by}` : ''}${frozen.at ? ` since ${frozen.at}` : ''}${frozen.reason ? `: ${frozen.reason}` : ''}; nothing started (meridian unfreeze --app ${spec.metadata.app} lifts it)`,
      );
    }
    try {
      await client.workflow.start<typeof releaseWorkflow>(releaseWorkflowType, {
        workflowId: releaseId,
        taskQueue,
        args: [input],
        memo: { specHash, requestedBy: input.requestedBy, description: spec.metadata.description ?? '' },
        typedSearchAttributes: [
          { key: appKey, value: spec.metadata.app },
          { key: versionKey, value: spec.metadata.version },
          { key: phaseKey, value: 'Pending' },
        ],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
      ctx.out(`started ${releaseId}\n`);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const existing = await client.workflow.getHandle(releaseId).describe();
      const existingHash = existing.memo?.specHash;
      if (existingHash !== specHash) {
        throw new InvalidInputError(
          `release ${releaseId} already exists with a different spec (${String(existingHash).slice(0, 12)}, this one ${specHash.slice(0, 12)}): release it under a new version, or abort the running one first`,
        );
      }
      ctx.out(`${releaseId} already started with this spec (${existing.status.name}); nothing new started\n`);
    }
    ctx.out(`${workflowUrl(target.uiUrl, target.namespace, releaseId)}\n`);
    if (!values.wait) return 0;
    return await watchRelease(client, releaseId, ctx);
  } finally {
    await close();
  }
}
