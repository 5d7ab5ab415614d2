import { parseCommandArgs } from '../args';
import type { CommandContext } from '../command';
import { connectClient } from '../temporal';
import { releasesQuery } from '../../workflows/search-attributes';

/** `meridian list [--app A] [--phase P] [--json]`: releases, newest first, found by search attributes. */
export async function listCommand(argv: string[], ctx: CommandContext): Promise<number> {
  const { values } = parseCommandArgs('list', argv, { app: { type: 'string' }, phase: { type: 'string' }, json: { type: 'boolean' }, limit: { type: 'string' } }, '[--app NAME] [--phase PHASE] [--json]');
  const query = releasesQuery({ app: values.app || undefined, phase: values.phase || undefined });
  const limit = Number(values.limit ?? 50);
  const { client, close } = await connectClient(ctx.env);
  try {
    const rows: { releaseId: string; app?: string; version?: string; phase?: string; started: string; status: string }[] = [];
    for await (const wf of client.workflow.list({ query })) {
      const attrs = wf.searchAttributes as Record<string, unknown[] | undefined>;
      rows.push({
        releaseId: wf.workflowId,
        app: attrs.MeridianApp?.[0] as string | undefined,
        version: attrs.MeridianVersion?.[0] as string | undefined,
        phase: attrs.MeridianPhase?.[0] as string | undefined,
        started: wf.startTime.toISOString(),
        status: wf.status.name,
      });
      if (rows.length >= limit) break;
    }
    if (values.json) ctx.out(`${JSON.stringify(rows, null, 2)}\n`);
    else if (rows.length === 0) ctx.out('no releases\n');
    else for (const r of rows) ctx.out(`${r.releaseId}  ${r.phase ?? '?'}  ${r.status}  started ${r.started}\n`);
    return 0;
  } finally {
    await close();
  }
}
