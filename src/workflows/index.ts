/** The workflows a Meridian worker runs. Only deterministic code may be reachable from here. */
export { releaseWorkflow } from './release-workflow';
export { regionWorkflow } from './region-workflow';
export { freezeWorkflow } from './freeze-workflow';
