import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { startTemporal, stopTemporal, loadDevServerConfig, temporalAnswers } from '../../src/rig/temporal-dev-server';
import { addSignal, finishSignal, greetingWorkflow, summingWorkflow, totalQuery } from '../fixtures/rig-workflows';
import { theRig, uniqueName } from '../support/rig';

const rig = theRig();
const workflowsPath = require.resolve('../fixtures/rig-workflows');

async function withWorker<T>(taskQueue: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address: rig.temporal.address });
  const nativeConnection = await NativeConnection.connect({ address: rig.temporal.address });
  try {
    const client = new Client({ connection, namespace: rig.temporal.namespace });
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace: rig.temporal.namespace,
      taskQueue,
      workflowsPath,
    });
    return await worker.runUntil(fn(client));
  } finally {
    await nativeConnection.close();
    await connection.close();
  }
}

describe('the Temporal dev server of the rig', () => {
  it('answers for its namespace, and its Web UI serves the page and reads the server', async () => {
    expect(await temporalAnswers(rig.temporal)).toBe(true);
    const page = await fetch(rig.temporal.uiUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    // The UI's own API proxies to the server: this proves the UI is wired to this dev server.
    const namespaces = (await (await fetch(`${rig.temporal.uiUrl}/api/v1/namespaces`)).json()) as {
      namespaces: { namespaceInfo: { name: string } }[];
    };
    expect(namespaces.namespaces.map((n) => n.namespaceInfo.name)).toContain(rig.temporal.namespace);
  });

  it("has Meridian's search attributes registered from temporal/dev-server.yaml", async () => {
    const connection = await Connection.connect({ address: rig.temporal.address });
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({
        namespace: rig.temporal.namespace,
      });
      const wanted = Object.keys(loadDevServerConfig().searchAttributes);
      expect(wanted.length).toBeGreaterThan(0);
      expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(wanted));
    } finally {
      await connection.close();
    }
  });

  it('runs a workflow on a worker', async () => {
    const taskQueue = uniqueName('rig-greeting');
    const result = await withWorker(taskQueue, (client) =>
      client.workflow.execute(greetingWorkflow, { taskQueue, workflowId: uniqueName('greeting'), args: ['세계'] }),
    );
    expect(result).toBe('hello, 세계');
  });

  it("keeps a running workflow's state when the dev server restarts", async () => {
    const taskQueue = uniqueName('rig-restart');
    const workflowId = uniqueName('summing');
    await withWorker(taskQueue, async (client) => {
      const handle = await client.workflow.start(summingWorkflow, { taskQueue, workflowId });
      await handle.signal(addSignal, 5);
      await handle.signal(addSignal, 7);
      expect(await handle.query(totalQuery)).toBe(12);
    });

    expect(await stopTemporal(rig.layout)).toBe(true);
    expect(await temporalAnswers(rig.temporal, 500)).toBe(false);
    const restarted = await startTemporal(rig.config, rig.layout);
    expect(restarted.started).toBe(true);

    const total = await withWorker(taskQueue, async (client) => {
      const handle = client.workflow.getHandle(workflowId);
      expect(await handle.query(totalQuery)).toBe(12);
      await handle.signal(addSignal, 30);
      await handle.signal(finishSignal);
      return (await handle.result()) as number;
    });
    expect(total).toBe(42);
  });
});
