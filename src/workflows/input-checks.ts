import { ApplicationFailure } from '@temporalio/workflow';

/**
 * The workflows check what they are given: the start input, and every operator signal and update
 * payload. Patched: releases and regions that ran before took their input as it came, and replay so.
 */
export const checksInputPatch = 'workflow-checks-its-input';

/** Most refused signals a release records in its actions; later ones are logged only. */
export const maxRecordedRefusals = 20;

/** The start input's problems as one non-retryable failure naming each field (at most 20 of them). */
export function refuseInput(kind: 'release' | 'region', problems: string[]): ApplicationFailure {
  const shown = problems.slice(0, 20).join('; ');
  const more = problems.length > 20 ? `; and ${problems.length - 20} more` : '';
  return ApplicationFailure.nonRetryable(
    `the ${kind} input was refused before anything deployed: ${shown}${more}`,
    'InvalidInput',
    ...problems.slice(0, 20),
  );
}
