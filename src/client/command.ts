/** What every command receives: its output streams and environment, so tests can run it in-process. */
export interface CommandContext {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

/**
 * A CLI command once commander has parsed and checked its command line (src/client/main.ts defines
 * each command's arguments and options): its options by camelCase name (`--canary-soak` is
 * `canarySoak`), already converted by their parsers, and its positional arguments in order. Returns
 * the exit code.
 */
export type Command<Options extends object = Record<string, never>> = (
  options: Options,
  args: string[],
  ctx: CommandContext,
) => Promise<number>;
