import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { InvalidInputError } from '../../domain/errors';
import type { ReleaseInput, ReleaseOverrides } from '../../domain/release-input';
import type { releaseWorkflow } from '../../workflows/release-workflow';
import { releaseWorkflowType, taskQueue } from '../../workflows/definitions';
import { appKey, phaseKey, versionKey } from '../../workflows/search-attributes';
import type { CommandContext } from '../command';
import { type OverrideValues, overridesFrom, requireFile } from '../options';
import {
  type LoadedRelease,
  loadRelease,
  packReleaseTemplate,
  releaseIdOf,
  releaseTimeToSmoke,
  specHashOf,
} from '../../infra/release-files/release-file';
import { packTraffic } from '../../infra/load/packed-traffic';
import { planWarnings } from '../../domain/plan-warnings';
import { planRelease } from '../../domain/rollout-plan';
import { connectClient, operatorName, workflowUrl } from '../temporal';
import { checkSourceImage } from '../source-image';
import { activeFreeze } from './freeze';
import { watchRelease } from './watch';

/** `meridian start`'s options: the spec, whether to follow the release, and timing overrides (milliseconds). */
export interface StartOptions extends OverrideValues {
  file?: string;
  wait?: boolean;
}

/**
 * `meridian start -f release.yaml [--wait]`: starts the release, or finds it already started with the
 * same spec (a repeated start from CI is harmless). The same id with a different spec is refused.
 */
export async function startCommand(values: StartOptions, _args: string[], ctx: CommandContext): Promise<number> {
  const release = loadRelease(requireFile('start', values.file));
  const { input, warnings } = releaseInputOf(release, overridesFrom(values), operatorName(ctx.env), Date.now());
  const sourceImage = await checkSourceImage(release.spec, ctx.env);
  if (sourceImage.digest) input.imageDigest = sourceImage.digest;
  for (const warning of [...warnings, ...(sourceImage.warning ? [sourceImage.warning] : [])])
    ctx.err(`warning: ${warning}\n`);
  const { spec, releaseId, specHash } = input;
  const { client, close, target } = await connectClient(ctx.env);
  try {
    // A freeze refuses new releases; a repeated start of one already running still finds it below.
    const frozen = await activeFreeze(client, spec.metadata.app);
    const exists = frozen
      ? await client.workflow
          .getHandle(releaseId)
          .describe()
          .then(
            () => true,
            () => false,
          )
      : false;
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

/** The workflow input of a release as `start` sends it (the plan and time-to-smoke computed now), and the warnings to show. */
export function releaseInputOf(
  release: LoadedRelease,
  overrides: ReleaseOverrides,
  requestedBy: string,
  now: number,
): { input: ReleaseInput; warnings: string[] } {
  const template = packReleaseTemplate(release);
  const spec = release.spec;
  const { timeToSmoke, warnings } = releaseTimeToSmoke(release, now);
  const plan = planRelease(spec, overrides, timeToSmoke?.ms);
  const input: ReleaseInput = {
    releaseId: releaseIdOf(spec),
    spec,
    specHash: specHashOf(spec, template, release.checks, release.traffic),
    template,
    checks: release.checks,
    ...(release.traffic && spec.spec.regions.some((r) => r.role === 'staging')
      ? { traffic: packTraffic(release.traffic, spec.spec.validation.load!.replay, 'spec.validation.load.replay') }
      : {}),
    overrides,
    plan,
    timeToSmoke,
    requestedBy,
  };
  return { input, warnings: [...release.warnings, ...warnings, ...planWarnings(spec, plan, overrides)] };
}
