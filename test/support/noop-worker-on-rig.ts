import { type NoopWorld, withNoopWorker } from '../../src/bench/noop-worker';
import { loadTemporalConnectionConfig } from '../../src/temporal/connection-config';
import { theRig } from './rig';
import { workflowCode } from './workflow-bundles';

/** Runs `body` with a no-op worker on the rig's Temporal, on the workflow bundle this jest run built. */
export function onRigNoopWorker<T>(body: (world: NoopWorld) => Promise<T>): Promise<T> {
  const { temporal } = theRig();
  const config = loadTemporalConnectionConfig({}, { address: temporal.address, namespace: temporal.namespace });
  return withNoopWorker(config, body, workflowCode('meridian'));
}
