import type { ReleasePhase } from '../../domain/release-status';
import { appKey, phaseKey, releasesQuery, versionKey } from '../../workflows/search-attributes';
import type { CommandContext } from '../command';
import { connectClient } from '../temporal';

/** `meridian list`'s options, as their parsers left them (`--phase` one of releasePhases, `--limit` 1 to 1000, 50 by default). */
export interface ListOptions {
  app?: string;
  phase?: ReleasePhase;
  limit: number;
  json?: boolean;
}

/** `meridian list [--app A] [--phase P] [--limit N] [--json]`: releases, newest first, found by search attributes. */
export async function listCommand(values: ListOptions, _args: string[], ctx: CommandContext): Promise<number> {
  const query = releasesQuery({ app: values.app || undefined, phase: values.phase });
  const { client, close } = await connectClient(ctx.env);
  try {
    const rows: {
      releaseId: string;
      app?: string;
      version?: string;
      phase?: string;
      started: string;
      status: string;
    }[] = [];
    for await (const wf of client.workflow.list({ query })) {
      const attrs = wf.typedSearchAttributes;
      rows.push({
        releaseId: wf.workflowId,
        app: attrs.get(appKey),
        version: attrs.get(versionKey),
        phase: attrs.get(phaseKey),
        started: wf.startTime.toISOString(),
        status: wf.status.name,
      });
      if (rows.length >= values.limit) break;
    }
    if (values.json) ctx.out(`${JSON.stringify(rows, null, 2)}\n`);
    else if (rows.length === 0) ctx.out('no releases\n');
    else for (const r of rows) ctx.out(`${r.releaseId}  ${r.phase ?? '?'}  ${r.status}  started ${r.started}\n`);
    return 0;
  } finally {
    await close();
  }
}
