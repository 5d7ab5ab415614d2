import tseslint from 'typescript-eslint';

const nodeModules = [
  'fs',
  'path',
  'child_process',
  'http',
  'https',
  'net',
  'os',
  'crypto',
  'stream',
  'util',
  'events',
  'url',
  'zlib',
  'dns',
  'tls',
  'worker_threads',
  'readline',
  'process',
  'timers',
  'buffer',
];

/** The Node modules by their bare names, each refused with `message` (a `^node:` pattern refuses the node:... forms). */
const nodePaths = (message) => nodeModules.map((name) => ({ name, message }));

/**
 * A regex for a relative import of one of src's layers from anywhere under src, however deep the
 * importing file is: layer('infra') matches '../infra/registry/copy-image' and '../../infra'.
 */
const layer = (...names) => `^(\\.\\./)+(${names.join('|')})(/|$)`;

/**
 * The layers, bottom up (README.md, "Layout"): domain (pure) <- infra (I/O libraries)
 * <- activities (Temporal activity adapters) <- worker (wiring) <- client (the CLI); workflows see only
 * domain and activity types; codec and temporal are small libraries beside infra; rig and bench are the
 * local world and its measurements. Each fence below says what its layer may not import, and why.
 */
export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Type-aware rules for what bites Temporal code: a promise nobody awaits (an activity or child whose
    // failure vanishes, a handler that races the main loop), a promise where a callback returns void, and
    // SDK APIs marked deprecated (they are removed in a later SDK, often with a replay-visible change).
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-deprecated': 'error',
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no I/O, no Node modules, no clock.
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodePaths('Workflow code must not use Node modules.'),
            {
              name: '@kubernetes/client-node',
              message: 'Kubernetes calls belong in activities (src/infra/kubernetes, called from src/activities).',
            },
            { name: 'pino', message: 'Workflows log through the SDK logger (log from @temporalio/workflow).' },
            { name: '@temporalio/activity', message: 'Workflows import activity types only.', allowTypeImports: true },
            { name: '@temporalio/client', message: 'Workflows cannot use the client.' },
            { name: '@temporalio/worker', message: 'Workflows cannot use the worker.' },
          ],
          patterns: [
            { regex: '^node:', message: 'Workflow code must not use Node modules.' },
            {
              regex: layer('activities'),
              allowTypeImports: true,
              message:
                'Workflows import activity types only (import type, proxied in activity-proxies.ts); the activities themselves run in the worker.',
            },
            {
              regex: layer('infra', 'client', 'worker', 'rig', 'bench', 'codec', 'temporal'),
              message:
                'Workflows import only domain modules and activity types: I/O libraries (src/infra), the CLI, the worker, the rig and the bench do not belong in the sandbox, not even as types.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Use sleep() in a loop from @temporalio/workflow.' },
        { name: 'fetch', message: 'I/O belongs in activities.' },
        { name: 'process', message: 'Workflows must not read the environment.' },
      ],
    },
  },
  {
    // Domain code is pure: no I/O and no clock. Everything else may import it; it imports nothing of theirs.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodePaths('Domain code is pure: no Node modules.'),
            ...['@kubernetes/client-node', 'pino', 'autocannon', 'hdr-histogram-js'].map((name) => ({
              name,
              message: 'Domain code is pure: I/O belongs in src/infra.',
            })),
          ],
          patterns: [
            { regex: '^node:', message: 'Domain code is pure: no Node modules.' },
            {
              regex: '^@temporalio/',
              message: 'Domain code knows nothing of Temporal: the workflows and activities map it onto Temporal.',
            },
            {
              regex: layer('infra', 'activities', 'workflows', 'client', 'worker', 'rig', 'bench', 'codec', 'temporal'),
              message:
                'Domain code is the bottom layer: it imports only other domain modules (and zod, yaml), so that every layer can use it and workflows can replay it.',
            },
          ],
        },
      ],
    },
  },
  {
    // I/O libraries: registries, Kubernetes, rendering, load, Prometheus, checks, release files. Called by
    // activity adapters, the CLI, the rig and the bench alike, so they know none of them.
    files: ['src/infra/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@temporalio/activity',
              message:
                'I/O libraries know nothing of Temporal activities: take progress and heartbeats as callbacks (e.g. ReplicateDeps.heartbeat), and let src/activities pass Context in.',
            },
            { name: '@temporalio/workflow', message: 'I/O libraries never run in the workflow sandbox.' },
            { name: '@temporalio/worker', message: 'I/O libraries know nothing of the worker: src/worker wires them.' },
          ],
          patterns: [
            {
              regex: layer('activities', 'workflows', 'client', 'worker', 'rig', 'bench'),
              message:
                'I/O libraries import only domain modules, other src/infra areas and src/codec: they know nothing of Temporal activities, workflows, the CLI, the worker, the rig or the bench. ' +
                'Pass in what they need (e.g. the visibility query findLoadBaseline reads, built by the adapter with releasesQuery). ' +
                '@temporalio/client (reading visibility) and @temporalio/common (ApplicationFailure for non-retryable answers) are allowed.',
            },
          ],
        },
      ],
    },
  },
  {
    // Activity adapters: Temporal activities over the I/O libraries (Context, heartbeats, failures, metrics).
    files: ['src/activities/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@temporalio/workflow',
              message: 'Activities run in Node, not in the workflow sandbox: use @temporalio/activity.',
            },
          ],
          patterns: [
            {
              regex: layer('client', 'rig', 'bench', 'worker'),
              message:
                "Activity adapters import src/infra and src/domain (and the workflows' wire contract); the CLI, the rig, the bench and the worker wiring are above them.",
            },
            {
              regex: '^(\\.\\./)+workflows(/(?!(definitions|search-attributes)$)|$)',
              message:
                "Activities may read the workflows' wire contract (definitions, search-attributes), never workflow code: that runs in the sandbox and calls them.",
            },
          ],
        },
      ],
    },
  },
  {
    // The CLI. It runs the worker in-process (`meridian worker`, `codec-server`, `demo`) and drives the
    // local rig (`meridian dev`, `demo`; helm from the rig's toolchain), so worker and rig are allowed.
    files: ['src/client/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@temporalio/activity',
              message: 'The CLI runs no activities: it calls the I/O libraries in src/infra itself.',
            },
            {
              name: '@temporalio/workflow',
              message: 'The CLI talks to workflows through @temporalio/client and src/workflows/definitions.ts.',
            },
          ],
          patterns: [
            {
              regex: layer('activities'),
              message:
                'The CLI calls the I/O libraries in src/infra directly; activity adapters run only in a worker (src/worker wires them, `meridian worker` starts it).',
            },
            { regex: layer('bench'), message: 'The bench measures the CLI; the CLI never imports the bench.' },
            {
              regex: '^(\\.\\./)+workflows(/(?!(definitions|search-attributes|freeze-workflow)$)|$)',
              allowTypeImports: true,
              message:
                "The CLI imports the workflows' wire contract (definitions, search-attributes, and the freeze's messages beside freeze-workflow), and workflow functions as types only (for typed starts).",
            },
          ],
        },
      ],
    },
  },
  {
    // Worker wiring: connection, activities, data converter, logger.
    files: ['src/worker/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: layer('client', 'rig', 'bench'),
              message:
                "The worker wires activities, infra, codec and the workflows' task queue; the CLI starts it, never the other way, and it knows nothing of the rig or the bench.",
            },
          ],
        },
      ],
    },
  },
  {
    // Payload codec and the Temporal connection settings: small libraries over domain, used by client, worker and rig.
    files: ['src/codec/**/*.ts', 'src/temporal/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: layer('infra', 'activities', 'workflows', 'client', 'worker', 'rig', 'bench'),
              message:
                'src/codec and src/temporal import only domain modules: the worker, the CLI, infra and the rig all build on them.',
            },
          ],
        },
      ],
    },
  },
  {
    // The local rig: Temporal dev server, KWOK clusters, registries, demo services. The CLI (`meridian dev`) drives it.
    files: ['src/rig/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: layer('client', 'worker', 'activities', 'workflows', 'bench'),
              message:
                'The rig uses domain and the I/O libraries in src/infra (registries, Kubernetes, release files); the CLI drives it, so it imports nothing of the CLI, the worker, the activities, the workflows or the bench.',
            },
          ],
        },
      ],
    },
  },
  // src/bench measures the whole system, so it may import every layer: no fence.
);
