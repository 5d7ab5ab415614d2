import { releasesQuery } from '../../src/workflows/search-attributes';

describe('releasesQuery', () => {
  it('narrows release workflows by app, phase and execution status, quoting values', () => {
    expect(releasesQuery({})).toBe(`WorkflowType = 'releaseWorkflow'`);
    expect(releasesQuery({ app: "o'brien\\api", phase: 'Halted', executionStatus: 'Running' })).toBe(
      `WorkflowType = 'releaseWorkflow' AND MeridianApp = 'o\\'brien\\\\api' AND MeridianPhase = 'Halted' AND ExecutionStatus = 'Running'`,
    );
  });
});
