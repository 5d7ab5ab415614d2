/**
 * A Temporal dev server of the bench's own: in memory, on a free port, headless, with the search
 * attributes and dynamic config the rig's server gets (temporal/dev-server.yaml). The orchestration
 * targets are the dev server's, so the section measures one, alone, whatever the rig runs (the rig may
 * run the production profile, a cluster on PostgreSQL).
 */
import { spawn } from 'node:child_process';
import { freePort } from '../rig/scratch-registry';
import { frontendAnswers, loadDevServerConfig, startDevArgs } from '../rig/temporal-dev-server';
import { requireTool } from '../rig/toolchain';
import { loadTemporalConnectionConfig, type TemporalConnectionConfig } from '../temporal/connection-config';
import { stopChild, waitFor } from '../rig/processes';

/** The end of what the server wrote, for an error: a few lines, never the whole log. */
const tailChars = 2_000;

/** Runs `body` against a fresh dev server; stops the server after, however `body` ends. */
export async function withPrivateDevServer<T>(body: (temporal: TemporalConnectionConfig) => Promise<T>): Promise<T> {
  const port = await freePort();
  const namespace = 'default';
  const binary = requireTool('temporal');
  const child = spawn(binary, startDevArgs({ port, namespace }, loadDevServerConfig()), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-tailChars);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  try {
    const address = `127.0.0.1:${port}`;
    const up = await waitFor(
      async () => child.exitCode === null && (await frontendAnswers({ address, connectTimeout: 1_000 }, namespace)),
      60_000,
    );
    if (!up) throw new Error(`the bench's Temporal dev server did not answer on ${address}:\n${output.trim()}`);
    // Nothing from the environment or a temporal.toml profile: this server is the bench's alone.
    return await body(loadTemporalConnectionConfig({}, { address, namespace }));
  } finally {
    await stopChild(child);
  }
}
