/** What every command receives: its output streams and environment, so tests can run it in-process. */
export interface CommandContext {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

/** A CLI command: parses its own arguments and returns the exit code. */
export type Command = (argv: string[], ctx: CommandContext) => Promise<number>;
