import type { CommandContext } from '../command';
import { queryStatus } from '../release-handle';
import { formatStatus } from '../status-view';
import { connectClient } from '../temporal';

/** `meridian status <id> [--json]`: wave, each region's phase, what it waits for and until when. */
export async function statusCommand(
  values: { json?: boolean },
  [releaseId]: string[],
  ctx: CommandContext,
): Promise<number> {
  const { client, close } = await connectClient(ctx.env);
  try {
    const status = await queryStatus(client, releaseId);
    ctx.out(values.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
    return 0;
  } finally {
    await close();
  }
}
