import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { bundleDirVariable, bundleFile, type WorkflowBundleName, workflowBundles } from './workflow-bundles';

/** What this setup reads of jest's global and project configs. */
interface GlobalConfig {
  rootDir: string;
  testPathPatterns: { toExecutor(options: { rootDir: string }): { isMatch(absolutePath: string): boolean } };
}
interface ProjectConfig {
  roots: string[];
  testPathIgnorePatterns: string[];
}

/**
 * jest's globalSetup: bundles the workflow code (test/support/workflow-bundles.ts) once for the whole
 * run, from the sources as they are now, with the options a Worker given the same modules would use
 * (no payload or failure converter, no bundlerOptions, no plugins), and tells the test files where
 * the bundles are. Webpack per test file took about 5 s each. A run none of whose files use the workflow
 * test support (`npx jest test/domain`, the production tier) skips it.
 */
export default async function bundleWorkflows(globalConfig: GlobalConfig, projectConfig: ProjectConfig): Promise<void> {
  delete process.env[bundleDirVariable]; // a watch mode's earlier run may have set it
  if (!runsWorkflowTests(globalConfig, projectConfig)) return;
  const dir = join(__dirname, '..', '..', '.meridian', 'workflow-bundles');
  mkdirSync(dir, { recursive: true });
  const logger = new DefaultLogger('WARN');
  await Promise.all(
    (Object.keys(workflowBundles) as WorkflowBundleName[]).map(async (name) => {
      const { workflowsPath, workflowModules } = workflowBundles[name];
      const { code } = await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules: workflowModules, logger });
      // Written aside and renamed: a jest run started meanwhile reads a whole bundle, this one's or its own.
      const file = bundleFile(dir, name);
      const partial = `${file}.${process.pid}.partial`;
      writeFileSync(partial, code);
      renameSync(partial, file);
    }),
  );
  process.env[bundleDirVariable] = dir;
}

/**
 * Whether a test file this run may select imports the workflow test support. Only a shortcut: a file
 * it misses still runs its workflows, bundled by its own Worker as without this setup.
 */
function runsWorkflowTests(globalConfig: GlobalConfig, projectConfig: ProjectConfig): boolean {
  const selected = globalConfig.testPathPatterns.toExecutor({ rootDir: globalConfig.rootDir });
  const ignored = projectConfig.testPathIgnorePatterns.map((pattern) => new RegExp(pattern));
  const support = /support\/(workflow-env|release-workflow-rig|workflow-bundles)['"]/;
  return projectConfig.roots.some((root) =>
    readdirSync(root, { recursive: true, encoding: 'utf8' })
      .map((file) => join(root, file))
      .filter((file) => file.endsWith('.test.ts') && !ignored.some((re) => re.test(file)) && selected.isMatch(file))
      .some((file) => support.test(readFileSync(file, 'utf8'))),
  );
}
