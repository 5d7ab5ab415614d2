/**
 * Who sent an operator signal or update, as Temporal reports it, for the actions a release records.
 *
 * Temporal keeps the caller's client identity with every signal and update (the WorkflowExecutionSignaled
 * event's `identity`, the update request's `meta.identity`; the `temporal` CLI sends
 * `temporal-cli:user@host`, the TypeScript client `pid@host` unless it is given another). The TypeScript
 * SDK 1.24 hands the activation job with it to interceptors only, not to handlers: this module is a
 * workflow interceptor module (WorkerOptions.interceptors.workflowModules) that carries the identity in
 * a header of the job, and makes it readable with `senderIdentity()` while the handler runs. It comes from
 * history, so a replay reads the same value. It is what the caller's client says it is, not proof.
 *
 * It also turns a signal payload that cannot be decoded (an unknown encoding from `temporal workflow
 * signal --input-meta`) into a text payload saying so, which the handler refuses like any other bad
 * payload: decoding would otherwise fail every workflow task of the release from then on.
 */
import { type ActivateInput, defaultPayloadConverter, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

/** Header the identity travels in from the activation job to the handler; one a caller sets is replaced. */
export const senderHeader = 'meridian-sender-identity';

/** The sender of the signal or update whose handler runs now (its synchronous part), when Temporal reported one. */
let current: string | undefined;

/** The identity Temporal reported for the signal or update being handled; undefined outside a handler or without the interceptor. */
export function senderIdentity(): string | undefined {
  return current;
}

function identityIn(headers: Record<string, unknown> | undefined): string | undefined {
  const payload = headers?.[senderHeader];
  if (!payload) return undefined;
  try {
    const value = defaultPayloadConverter.fromPayload<unknown>(
      payload as Parameters<typeof defaultPayloadConverter.fromPayload>[0],
    );
    return typeof value === 'string' && value !== '' ? value : undefined;
  } catch {
    return undefined;
  }
}

function carry(headers: Record<string, unknown>, identity: string | null | undefined): void {
  if (identity) headers[senderHeader] = defaultPayloadConverter.toPayload(identity);
  else delete headers[senderHeader];
}

function around<T>(headers: Record<string, unknown>, run: () => T): T {
  const before = current;
  current = identityIn(headers);
  try {
    return run();
  } finally {
    current = before;
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  internals: [
    {
      activate(input: ActivateInput, next) {
        for (const job of input.activation.jobs ?? []) {
          const signal = job.signalWorkflow;
          if (signal) {
            signal.headers ??= {};
            carry(signal.headers, signal.identity);
            (signal.input ?? []).forEach((payload, i) => {
              try {
                defaultPayloadConverter.fromPayload(payload);
              } catch (err) {
                signal.input![i] = defaultPayloadConverter.toPayload(
                  `an undecodable payload (${err instanceof Error ? err.message.slice(0, 200) : 'unknown encoding'})`,
                )!;
              }
            });
          }
          const update = job.doUpdate;
          if (update) {
            update.headers ??= {};
            carry(update.headers, update.meta?.identity);
          }
        }
        return next(input);
      },
    },
  ],
  inbound: [
    {
      handleSignal: (input, next) => around(input.headers, () => next(input)),
      validateUpdate: (input, next) => around(input.headers, () => next(input)),
      handleUpdate: (input, next) => around(input.headers, () => next(input)),
    },
  ],
});
