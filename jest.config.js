/** Tests mirror src/. The rig's suites talk to real servers, so they run in band (see scripts/test.sh). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The production tier needs the rig's production profile: scripts/test.sh runs it after switching.
  testPathIgnorePatterns: ['/node_modules/', '/test/production/'],
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // @kubernetes/client-node and a few of its dependencies ship ES modules only: compile them for jest.
  transformIgnorePatterns: ['/node_modules/(?!(@kubernetes/client-node|openid-client|oauth4webapi|jose)/)'],
  setupFiles: ['<rootDir>/test/support/quiet-worker-logs.ts'],
  // The workflow code bundled once per run, for every test file's workers and replays (not once per file).
  globalSetup: '<rootDir>/test/support/workflow-bundles-setup.ts',
  testTimeout: 120000,
};
