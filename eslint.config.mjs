import tseslint from 'typescript-eslint';

const nodeModules = ['fs', 'path', 'child_process', 'http', 'https', 'net', 'os', 'crypto', 'stream', 'util',
  'events', 'url', 'zlib', 'dns', 'tls', 'worker_threads', 'readline', 'process', 'timers', 'buffer'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no Node modules, no clock.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [
          ...nodeModules.flatMap((m) => [m, `node:${m}`]).map((name) => ({ name, message: 'Workflow code must not use Node modules.' })),
          { name: '@kubernetes/client-node', message: 'Kubernetes calls belong in activities.' },
          { name: 'pino', message: 'Workflows log through the SDK logger (log from @temporalio/workflow).' },
          { name: '@temporalio/activity', message: 'Workflows import activity types only.', allowTypeImports: true },
          { name: '@temporalio/client', message: 'Workflows cannot use the client.' },
          { name: '@temporalio/worker', message: 'Workflows cannot use the worker.' },
        ],
        patterns: [
          { group: ['../activities/*', '../activities', '../client/*', '../rig/*', '../worker/*'], message: 'Workflows import only domain modules and activity types.', allowTypeImports: true },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() in a loop from @temporalio/workflow.' },
        { name: 'fetch', message: 'I/O belongs in activities.' },
        { name: 'process', message: 'Workflows must not read the environment.' },
      ],
    },
  },
  {
    // Domain code is pure: no I/O and no clock.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeModules.flatMap((m) => [m, `node:${m}`]).map((name) => ({ name, message: 'Domain code is pure: no Node modules.' })),
      }],
    },
  },
);
