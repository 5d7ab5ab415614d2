/**
 * Whether a Deployment has really rolled out, judged from its status the way `kubectl rollout status`
 * does: the controller has seen the newest spec, every replica is updated and available, no old
 * replica is left, and the progress deadline has not passed.
 */

/** The parts of a Deployment that the judgement reads. */
export interface DeploymentState {
  metadata?: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** The outcome of one look at a Deployment. */
export type RolloutAssessment =
  /** Still moving; `waitingFor` says on what. */
  | { state: 'progressing'; waitingFor: string }
  /** Every wanted replica runs the new spec and is available. */
  | { state: 'complete' }
  /** The Deployment gave up: its progress deadline passed. */
  | { state: 'failed'; reason: string; message: string };

export function assessRollout(d: DeploymentState): RolloutAssessment {
  const generation = d.metadata?.generation ?? 0;
  const status = d.status ?? {};
  if ((status.observedGeneration ?? 0) < generation) {
    return { state: 'progressing', waitingFor: 'the deployment controller to observe the new spec' };
  }
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return {
      state: 'failed',
      reason: 'ProgressDeadlineExceeded',
      message: progressing.message ?? 'progress deadline exceeded',
    };
  }
  const wanted = d.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const total = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < wanted) return { state: 'progressing', waitingFor: `${updated} of ${wanted} replicas updated` };
  if (total > updated) return { state: 'progressing', waitingFor: `${total - updated} old replicas to terminate` };
  if (available < updated)
    return { state: 'progressing', waitingFor: `${available} of ${updated} updated replicas available` };
  return { state: 'complete' };
}
