import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { releaseWorkflowType } from './definitions';

/** Custom search attributes (registered from temporal/dev-server.yaml). */
export const appKey = defineSearchAttributeKey('MeridianApp', SearchAttributeType.KEYWORD);
export const versionKey = defineSearchAttributeKey('MeridianVersion', SearchAttributeType.KEYWORD);
export const phaseKey = defineSearchAttributeKey('MeridianPhase', SearchAttributeType.KEYWORD);
export const regionKey = defineSearchAttributeKey('MeridianRegion', SearchAttributeType.KEYWORD);

const quoted = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * The visibility query for releases (release workflows, not their region children), narrowed by app,
 * phase and execution status: one place that quotes values and names the attributes.
 */
export function releasesQuery(filter: {
  app?: string;
  phase?: string;
  executionStatus?: 'Running' | 'Completed';
}): string {
  return [
    `WorkflowType = ${quoted(releaseWorkflowType)}`,
    ...(filter.app !== undefined ? [`${appKey.name} = ${quoted(filter.app)}`] : []),
    ...(filter.phase !== undefined ? [`${phaseKey.name} = ${quoted(filter.phase)}`] : []),
    ...(filter.executionStatus ? [`ExecutionStatus = ${quoted(filter.executionStatus)}`] : []),
  ].join(' AND ');
}
