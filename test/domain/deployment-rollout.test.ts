import { assessRollout } from '../../src/domain/deployment-rollout';

const base = { metadata: { generation: 2 }, spec: { replicas: 3 } };

describe('assessRollout', () => {
  it.each([
    [
      'the controller has not seen the new spec',
      { ...base, status: { observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3 } },
      'the deployment controller to observe the new spec',
    ],
    [
      'replicas are still being updated',
      { ...base, status: { observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 3 } },
      '1 of 3 replicas updated',
    ],
    [
      'old replicas still run',
      { ...base, status: { observedGeneration: 2, replicas: 4, updatedReplicas: 3, availableReplicas: 3 } },
      '1 old replicas to terminate',
    ],
    [
      'updated replicas are not yet available',
      { ...base, status: { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 } },
      '2 of 3 updated replicas available',
    ],
  ])('is progressing while %s', (_what, d, waitingFor) => {
    expect(assessRollout(d)).toEqual({ state: 'progressing', waitingFor });
  });

  it('is complete when every replica is updated and available', () => {
    expect(
      assessRollout({
        ...base,
        status: { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 3 },
      }),
    ).toEqual({ state: 'complete' });
  });

  it('fails on ProgressDeadlineExceeded even while replicas are missing', () => {
    const d = {
      ...base,
      status: {
        observedGeneration: 2,
        replicas: 1,
        updatedReplicas: 1,
        availableReplicas: 0,
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'ReplicaSet "x" has timed out progressing.',
          },
        ],
      },
    };
    expect(assessRollout(d)).toEqual({
      state: 'failed',
      reason: 'ProgressDeadlineExceeded',
      message: 'ReplicaSet "x" has timed out progressing.',
    });
  });

  it('treats a missing replica count as one replica, as Kubernetes does', () => {
    expect(
      assessRollout({
        metadata: { generation: 1 },
        status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 0 },
      }),
    ).toEqual({ state: 'progressing', waitingFor: '0 of 1 updated replicas available' });
  });
});
