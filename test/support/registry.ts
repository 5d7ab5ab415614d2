import {
  bcryptHash,
  freePort,
  type ScratchRegistry,
  type ScratchRegistryOptions,
  startScratchRegistry,
} from '../../src/rig/scratch-registry';

/**
 * Real registries for tests: the scratch registries of src/rig/scratch-registry.ts (docker-registry on a
 * free loopback port, storage in a temporary directory that stop() removes). Each suite starts its own,
 * so suites do not share state and nothing depends on the rig.
 */

export type TestRegistry = ScratchRegistry;
export type TestRegistryOptions = ScratchRegistryOptions;

export function startTestRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  return startScratchRegistry(options);
}

export { bcryptHash, freePort };
