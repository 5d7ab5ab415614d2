import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';

/**
 * The workflow code the tests' workers and replays run, one entry per set of bundler inputs in use.
 * test/support/workflow-bundles-setup.ts (jest's globalSetup) bundles each once per jest run, instead
 * of every test file's Worker bundling them again with webpack.
 */
export const workflowBundles = {
  /** Meridian's workflows with the sender-identity interceptor module, as `meridian worker` registers them. */
  meridian: {
    workflowsPath: require.resolve('../../src/workflows'),
    workflowModules: [require.resolve('../../src/workflows/sender-identity')],
  },
  /** The workflows alone, without interceptor modules. */
  plain: { workflowsPath: require.resolve('../../src/workflows'), workflowModules: [] },
} satisfies Record<string, { workflowsPath: string; workflowModules: string[] }>;

export type WorkflowBundleName = keyof typeof workflowBundles;

/** Set by the globalSetup to the folder holding this run's bundles, for the test files to find them. */
export const bundleDirVariable = 'MERIDIAN_WORKFLOW_BUNDLE_DIR';

export function bundleFile(dir: string, name: WorkflowBundleName): string {
  return join(dir, `${name}.js`);
}

/**
 * Worker (and replay worker) options that load the `name` workflow code: this run's prebuilt bundle,
 * or, when there is none (jest run without the globalSetup), the same modules for the Worker to bundle.
 */
export function workflowCode(
  name: WorkflowBundleName,
): Pick<WorkerOptions, 'workflowsPath' | 'workflowBundle' | 'interceptors'> {
  const dir = process.env[bundleDirVariable];
  const codePath = dir ? bundleFile(dir, name) : undefined;
  // The interceptor modules are inside the bundle: a Worker given a bundle ignores (and warns about) its own.
  if (codePath && existsSync(codePath)) return { workflowBundle: { codePath } };
  const { workflowsPath, workflowModules } = workflowBundles[name];
  return workflowModules.length > 0 ? { workflowsPath, interceptors: { workflowModules } } : { workflowsPath };
}
