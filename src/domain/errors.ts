/**
 * Errors that the CLI turns into exit codes without a stack trace. Anything else is a bug and is
 * printed with its stack.
 */

/** Exit code of each expected failure, as documented in the README. */
export const ExitCode = {
  /** The command did what was asked. */
  ok: 0,
  /** A release failed or was aborted. */
  releaseFailed: 1,
  /** Invalid input or usage, or a missing prerequisite: nothing was started. */
  invalidInput: 2,
  /** Temporal or a cluster could not be reached. */
  unreachable: 3,
} as const;

/** Base of the expected failures: a message meant for a person, and the exit code it maps to. */
export abstract class MeridianError extends Error {
  abstract readonly exitCode: number;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input: names the field and the fix. `problems` lists each one when there are several. */
export class InvalidInputError extends MeridianError {
  readonly exitCode = ExitCode.invalidInput;
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(message);
  }
}

/** Something the command needs is not installed or not built. */
export class MissingPrerequisiteError extends MeridianError {
  readonly exitCode = ExitCode.invalidInput;
}

/** Temporal, a cluster or a rig component did not answer. */
export class UnreachableError extends MeridianError {
  readonly exitCode = ExitCode.unreachable;
}

/** A release ended failed or aborted. */
export class ReleaseFailedError extends MeridianError {
  readonly exitCode = ExitCode.releaseFailed;
}
