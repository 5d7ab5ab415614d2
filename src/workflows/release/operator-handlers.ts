import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import { ApplicationFailure, condition, log, patched, setHandler } from '@temporalio/workflow';
import { Mutex } from 'async-mutex';
import type { Amendment } from '../../domain/plan-amendments';
import { boundedIdentity, type OperatorMessage, readOperatorRequest } from '../../domain/operator-requests';
import type { ReleaseStatus } from '../../domain/release-status';
import {
  abortSignal,
  abortUpdate,
  addRegionUpdate,
  type AddRegionRequest,
  type AmendRequest,
  approveSignal,
  approveUpdate,
  type ApproveRequest,
  moveRegionUpdate,
  type MoveRegionRequest,
  type OperatorRequest,
  pauseSignal,
  pauseUpdate,
  resumeSignal,
  resumeUpdate,
  retryRegionUpdate,
  skipRegionUpdate,
  statusQuery,
} from '../definitions';
import { checksInputPatch, maxRecordedRefusals } from '../input-checks';
import { senderIdentity } from '../sender-identity';
import type { Amendments } from './amendments';
import type { ImageCopies } from './image-copies';
import type { ReleaseState } from './release-state';

/** How operator requests are handled, by the patches a release started with (replay keeps each release's own). */
export interface HandlerPatches {
  /** An update answers with the status once its effect shows: a resume after the halt lifted, an approval after the gate opened. */
  answersAfterEffect: boolean;
  /** Amendments run one at a time, under a lock, each planned on the release as the previous one left it. */
  amendsOneAtATime: boolean;
}

export const answersAfterEffectPatch = 'updates-answer-after-their-effect';
export const amendsOneAtATimePatch = 'amendments-one-at-a-time';

/** What an operator action does: its effect (idempotent), and when that effect has shown in the status. */
interface Action<R> {
  message: OperatorMessage;
  signal: SignalDefinition<[R?]>;
  update: UpdateDefinition<ReleaseStatus, [R]>;
  /** Throws why the action cannot be taken now (refusing an update; a signal is logged and ignored). */
  check?: (request: R | undefined) => void;
  /** Takes the action; returns a predicate that holds once the release has acted on it, if that takes the main loop. */
  act: (request: R | undefined, sender?: string) => (() => boolean) | undefined;
}

/** An amendment update: the region change it asks for. */
interface AmendmentUpdate<R extends OperatorRequest> {
  message: OperatorMessage;
  update: UpdateDefinition<ReleaseStatus, [R]>;
  amendment: (request: R) => Amendment;
}

/**
 * The release's operator handlers: the status query, pause, resume, approve and abort as signals and
 * updates, and the four amendments as updates. Each action is idempotent: asking twice does what asking once did.
 */
export function registerOperatorHandlers(
  state: ReleaseState,
  amendments: Amendments,
  images: ImageCopies,
  patches: HandlerPatches,
): void {
  const forward = (
    signal: typeof pauseSignal | typeof resumeSignal | typeof abortSignal,
    request?: OperatorRequest,
  ) => {
    for (const [name, child] of state.running) {
      child
        .signal(signal, request)
        .catch((err) => log.warn('could not reach region workflow', { region: name, error: String(err) }));
    }
  };
  const ended = () => state.isEnding();

  const pause: Action<OperatorRequest> = {
    message: 'pause',
    signal: pauseSignal,
    update: pauseUpdate,
    act: (request, sender) => {
      if (state.paused || state.isFinished()) return undefined;
      state.setPaused(true);
      state.record('pause', request, sender);
      forward(pauseSignal, request);
      return undefined;
    },
  };
  // One resume lifts both a halt (retrying the failed regions) and a pause.
  const resume: Action<OperatorRequest> = {
    message: 'resume',
    signal: resumeSignal,
    update: resumeUpdate,
    check: () => {
      if (!state.paused && state.phase !== 'Halted')
        throw new Error(`nothing to resume: the release is ${state.status.phase}`);
    },
    act: (request, sender) => {
      const halted = state.phase === 'Halted' && !state.resumeAfterHalt;
      if (!halted && !state.paused) return undefined;
      if (halted) state.resumeAfterHalt = true;
      if (state.paused) {
        state.setPaused(false);
        forward(resumeSignal, request);
      }
      state.record('resume', request, sender);
      return halted ? () => state.phase !== 'Halted' || ended() : undefined;
    },
  };
  const approve: Action<ApproveRequest> = {
    message: 'approve',
    signal: approveSignal,
    update: approveUpdate,
    check: (request) => {
      const gate = request?.gate ?? state.status.gate;
      if (!gate) throw new Error(`no gate is waiting for approval (the release is ${state.status.phase})`);
      if (!state.approved.has(gate) && gate !== state.status.gate)
        throw new Error(`gate "${gate}" is not waiting; the waiting gate is ${state.status.gate ?? 'none'}`);
    },
    act: (request, sender) => {
      const gate = request?.gate ?? state.status.gate;
      if (!gate || state.approved.has(gate)) return undefined;
      state.approved.add(gate);
      state.record(`approve ${gate}`, request, sender);
      return () => state.status.gate !== gate || ended();
    },
  };
  const abort: Action<OperatorRequest> = {
    message: 'abort',
    signal: abortSignal,
    update: abortUpdate,
    check: () => {
      if (state.isFinished()) throw new Error(`the release already ended ${state.status.phase}`);
    },
    act: (request, sender) => {
      if (state.abort || state.isFinished()) return undefined;
      // The abort's reason names the sender Temporal reported when the request names nobody.
      state.abort = { ...request, ...(request?.by === undefined && sender ? { by: sender } : {}) };
      state.record('abort', request, sender);
      images.cancel();
      forward(abortSignal, request);
      return undefined;
    },
  };

  let refusedSignals = 0;
  /** A signal whose payload is refused changes nothing: it is logged, and recorded (the first few) for status readers. */
  const refuseSignal = (message: OperatorMessage, why: string, sender: string | undefined) => {
    log.warn('operator signal refused', { release: state.status.releaseId, signal: message, reason: why, sender });
    if (++refusedSignals > maxRecordedRefusals) return;
    const more = refusedSignals === maxRecordedRefusals ? ` (later refusals are logged only)` : '';
    state.status.actions.push({
      action: `refused ${message} signal`,
      by: sender ?? 'unknown',
      reason: `${why}${more}`,
      at: new Date(Date.now()).toISOString(),
    });
    state.showDetails();
  };
  /**
   * A signal reads its payload first (patched: signals of releases that ran before are taken as they
   * came). Signals carry no answer: a refusal is recorded, an action that cannot be taken now is logged.
   */
  const onSignal =
    <R>({ message, check, act }: Action<R>) =>
    (payload?: unknown) => {
      const take = (request: R | undefined, sender?: string) => {
        try {
          // Only approve refused a signal it could not take; the others were, and are, no-ops then.
          if (message === 'approve') check?.(request);
          act(request, sender);
        } catch (err) {
          log.warn(`${message} signal ignored`, { reason: String(err) });
        }
      };
      if (!patched(checksInputPatch)) return take(payload as R | undefined);
      const sender = boundedIdentity(senderIdentity());
      const read = readOperatorRequest(message, payload, true);
      if (!read.ok) return refuseSignal(message, read.refused, sender);
      take(read.request as R, sender);
    };
  /** An update's validator: the payload's shape first, then `check` on what it asks. */
  const validUpdate =
    <R>(message: OperatorMessage, check: (request: R) => void = () => undefined) =>
    (payload: unknown) => {
      const read = readOperatorRequest(
        message,
        payload,
        message === 'pause' || message === 'resume' || message === 'abort' || message === 'approve',
      );
      if (!read.ok) throw ApplicationFailure.nonRetryable(read.refused, 'InvalidOperatorRequest');
      check(read.request as R);
    };
  /**
   * An update's handler, on the payload as its validator read it. Validators do not run on replay: a
   * payload accepted before they read it (none that the CLI sends) is taken as it came.
   */
  const onUpdate =
    <R, T>(message: OperatorMessage, act: (request: R, sender?: string) => T) =>
    (payload: R): T => {
      const read = readOperatorRequest(message, payload, true);
      return act((read.ok ? read.request : payload) as R, boundedIdentity(senderIdentity()));
    };
  /** The status once the action's effect shows (patched; before, the status as the handler left it). */
  const answer = (settled: (() => boolean) | undefined): ReleaseStatus | Promise<ReleaseStatus> =>
    patches.answersAfterEffect && settled ? condition(settled).then(() => state.status) : state.status;

  const lock = new Mutex();
  const amend = <R extends OperatorRequest>({ message, update, amendment }: AmendmentUpdate<R>) => {
    const apply = (request: R, sender?: string) =>
      amendments.apply(amendment(request), request, sender, patches.answersAfterEffect);
    setHandler(
      update,
      onUpdate(
        message,
        patches.amendsOneAtATime ? (request: R, sender) => lock.runExclusive(() => apply(request, sender)) : apply,
      ),
      {
        validator: validUpdate(message, (request: R) => amendments.check(amendment(request), request)),
      },
    );
  };

  // Registered in this order since the first: a signal sent with the start is handled when its handler is set.
  const actions: Action<ApproveRequest>[] = [pause, resume, approve, abort];
  setHandler(statusQuery, () => state.status);
  for (const action of actions) setHandler(action.signal, onSignal(action));
  for (const action of actions) {
    setHandler(
      action.update,
      onUpdate(action.message, (request, sender) => answer(action.act(request, sender))),
      { validator: validUpdate(action.message, action.check) },
    );
  }
  amend<AmendRequest>({
    message: 'skip-region',
    update: skipRegionUpdate,
    amendment: (r) => ({ kind: 'skip', region: r.region }),
  });
  amend<AmendRequest>({
    message: 'retry-region',
    update: retryRegionUpdate,
    amendment: (r) => ({ kind: 'retry', region: r.region }),
  });
  amend<MoveRegionRequest>({
    message: 'move-region',
    update: moveRegionUpdate,
    amendment: (r) => ({ kind: 'move', region: r.region, toWave: r.toWave }),
  });
  amend<AddRegionRequest>({
    message: 'add-region',
    update: addRegionUpdate,
    amendment: (r) => ({ kind: 'add', region: r.region, toWave: r.wave }),
  });
}
