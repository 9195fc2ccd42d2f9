// Runs turns: the queue, one AbortController per running turn, cancel, timeout, approvals and restart recovery.
import { realpathSync } from 'node:fs';
import { approvalSafeText } from '../../lib/approval-text.js';
import type { ApprovalMode, RuntimeConfig } from '../../lib/config.js';
import { describeError, HttpError, TetherError } from '../../lib/errors.js';
import { scrubRegisteredSecrets, type Logger } from '../../lib/log.js';
import { withoutUrlCredentials } from '../../lib/shown-url.js';
import { ApprovalDesk, effectiveMode, offeredTools } from '../approvals.js';
import type { RuntimeCounters } from '../metrics.js';
import type { ModelClient } from '../models/types.js';
import type { RuntimeStore } from '../store/store.js';
import type { Approval, Turn } from '../store/types.js';
import { FINISHED_STATUSES } from '../store/types.js';
import type { Tool } from '../tools/types.js';
import { runTurn, type LoopState } from './agent-loop.js';
import { contextMessages, systemPrompt } from './context.js';
import { TurnQueue, type Runnable } from './queue.js';

export type ToolsFor = (mode: ApprovalMode) => Tool[];

type StopReason = 'cancel' | 'timeout' | 'shutdown';

class TurnStopped extends TetherError {
  constructor(readonly reason: StopReason) {
    super('turn_stopped', `turn stopped (${reason})`);
  }
}

/** After a run: the thread's next turn may go; the turn waits for a person; or it could not start and goes back. */
type RunEnd = 'release' | 'keep_thread' | 'put_back';

const STORAGE_RETRY_MIN_MS = 100;
const STORAGE_RETRY_MAX_MS = 5000;

function isStorageRefusal(err: unknown): boolean {
  return err instanceof HttpError && err.code === 'storage_unavailable';
}

interface ActiveRun {
  controller: AbortController;
  done: Promise<void>;
}

/** A failure as turn.failed shows it to every client: no registered secret, no credentials of a URL, no raw control characters (a provider's own words are in it). */
function shownError(err: unknown): string {
  return approvalSafeText(withoutUrlCredentials(scrubRegisteredSecrets(describeError(err))));
}

export const INTERRUPTED_ERROR = 'the runtime stopped while this turn was running; send the message again to retry';

export interface TurnEngineDeps {
  store: RuntimeStore;
  config: RuntimeConfig;
  model: ModelClient;
  toolsFor: ToolsFor;
  counters: RuntimeCounters;
  logger: Logger;
}

export class TurnEngine {
  readonly approvals: ApprovalDesk;
  private readonly queue: TurnQueue;
  private readonly active = new Map<string, ActiveRun>();
  private readonly workspace: string;
  /** Real path of the state dir, which the file tools refuse to touch. */
  private readonly stateDir: string;
  private stopping = false;
  private started = false;
  private pumpScheduled = false;
  /** While the store refuses writes: the current retry interval, and no turn starts before the time. */
  private storageBackoffMs = 0;
  private storageBlockedUntil = 0;
  private storageTimer: NodeJS.Timeout | undefined;
  private wakeStopped!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.wakeStopped = resolve));

  constructor(private readonly deps: TurnEngineDeps) {
    this.queue = new TurnQueue(deps.config.workers);
    this.approvals = new ApprovalDesk(deps.store, (a) => this.onApprovalDecided(a));
    this.workspace = realpathSync(deps.config.workspace);
    this.stateDir = realpathSync(deps.config.stateDir);
  }

  get queuedCount(): number {
    return this.queue.queuedCount;
  }

  get runningCount(): number {
    return this.queue.runningCount;
  }

  /**
   * After a start (clean or not): turns that were running are interrupted; turns waiting for a
   * person keep waiting (or carry on if decided meanwhile); queued turns are queued again, in
   * order. Nothing runs until start().
   */
  recover(): void {
    const { store } = this.deps;
    for (const t of store.turnsWithStatus(['running', 'awaiting_approval', 'queued'])) {
      if (t.status === 'queued') {
        this.queue.add({ turnId: t.id, threadId: t.thread_id });
        continue;
      }
      const state = t.status === 'awaiting_approval' ? (store.loadSuspendedState(t.id) as LoopState | undefined) : undefined;
      const approval = state?.awaitingApproval ? store.getApproval(state.awaitingApproval) : undefined;
      if (!state || !approval || approval.status === 'expired') {
        store.write(() => {
          const pending = store.pendingApprovalOf(t.id);
          if (pending) this.approvals.expire(pending.id);
          store.finishTurn(t.id, 'interrupted', { error: INTERRUPTED_ERROR });
          store.appendEvent('turn.interrupted', t.thread_id, t.id, { error: INTERRUPTED_ERROR });
        });
        this.deps.logger.warn('turn interrupted by a restart', { turn_id: t.id });
      } else if (approval.status === 'pending') this.queue.hold({ turnId: t.id, threadId: t.thread_id });
      else this.queue.requestResume({ turnId: t.id, threadId: t.thread_id });
    }
  }

  /** Starts running turns (once the server listens, so a failed start runs nothing). */
  start(): void {
    this.started = true;
    this.pump();
  }

  enqueue(turn: Turn): void {
    this.queue.add({ turnId: turn.id, threadId: turn.thread_id });
    // The turn's row was just committed: the store takes writes again, so waiting turns may try now.
    this.storageBlockedUntil = 0;
    // Start it after the 202 is written: the caller's acknowledgement never waits on a turn's setup.
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
  }

  /** Queued: cancelled at once. Running: aborted (model request, tool processes), then cancelled. */
  async cancel(turnId: string): Promise<Turn> {
    const { store } = this.deps;
    const turn = store.getTurn(turnId);
    if (!turn) throw new HttpError(404, 'not_found', `no turn ${turnId}`);
    if (FINISHED_STATUSES.includes(turn.status)) throw new HttpError(409, 'turn_finished', `turn ${turnId} already ended (${turn.status})`);
    const run = this.active.get(turnId);
    if (run) {
      run.controller.abort(new TurnStopped('cancel'));
      await run.done;
      return store.getTurn(turnId)!;
    }
    const ref = { turnId, threadId: turn.thread_id };
    const wasQueued = this.queue.remove(turnId);
    store.write(() => {
      const pending = store.pendingApprovalOf(turnId);
      if (pending) this.approvals.expire(pending.id);
      store.finishTurn(turnId, 'cancelled', {});
      store.appendEvent('turn.cancelled', turn.thread_id, turnId, {});
    });
    if (!wasQueued) this.queue.unhold(ref);
    this.pump();
    return store.getTurn(turnId)!;
  }

  private onApprovalDecided(a: Approval): void {
    if (this.stopping) return;
    this.queue.requestResume({ turnId: a.turn_id, threadId: a.thread_id });
    this.pump();
  }

  private pump(): void {
    if (this.stopping || !this.started) return;
    const blockedFor = this.storageBlockedUntil - Date.now();
    if (blockedFor > 0) {
      // The store refused the last write: try again after the backoff, not on every event.
      this.storageTimer ??= setTimeout(() => {
        this.storageTimer = undefined;
        this.pump();
      }, blockedFor);
      return;
    }
    for (let next = this.queue.take(); next; next = this.queue.take()) {
      const r = next;
      const controller = new AbortController();
      const done = this.execute(r, controller).catch((err) => this.deps.logger.error('turn bookkeeping failed', { turn_id: r.turnId, err }));
      this.active.set(r.turnId, { controller, done });
    }
  }

  private initialState(turn: Turn, tools: readonly Tool[]): LoopState {
    const { store, config } = this.deps;
    return {
      messages: [
        { role: 'system', content: systemPrompt(this.workspace, tools.map((t) => t.schema)) },
        ...contextMessages(store.earlierTurns(turn.thread_id, turn.id), config.contextChars),
        { role: 'user', content: turn.input },
      ],
      pendingCalls: [],
      steps: 0,
      output: '',
    };
  }

  private async execute(r: Runnable, controller: AbortController): Promise<void> {
    // Let pump() record the run before it can finish.
    await Promise.resolve();
    const timer = setTimeout(() => controller.abort(new TurnStopped('timeout')), this.deps.config.turnTimeoutMs);
    let after: RunEnd = 'release';
    try {
      after = await this.runToEnd(r, controller);
    } finally {
      clearTimeout(timer);
      this.active.delete(r.turnId);
      if (after === 'put_back') this.queue.putBack(r);
      else this.queue.release(r, after === 'keep_thread');
      this.pump();
    }
  }

  /** One run of a turn: started (or resumed), run, and its end recorded; says what the queue does next. */
  private async runToEnd(r: Runnable, controller: AbortController): Promise<RunEnd> {
    const { store, config, logger } = this.deps;
    const turn = store.getTurn(r.turnId)!;
    const overrides = store.threadOverrides(r.threadId);
    // Read again before every tool call: a PATCH to a stricter mode applies to the running turn at once.
    const modeNow = () => effectiveMode(store.threadOverrides(r.threadId)?.approval, config.approval);
    const toolsIn = (mode: ApprovalMode) => offeredTools(mode, this.deps.toolsFor(mode));
    let state: LoopState | undefined;
    let recordEnd: () => void;
    try {
      let decision: 'approve' | 'deny' | undefined;
      if (r.kind === 'start') state = this.initialState(turn, toolsIn(modeNow()));
      else {
        state = store.loadSuspendedState(r.turnId) as LoopState;
        const approval = state.awaitingApproval ? store.getApproval(state.awaitingApproval) : undefined;
        decision = approval?.status === 'approved' ? 'approve' : 'deny';
      }
      try {
        store.write(() => {
          if (r.kind === 'start') {
            store.markTurnStarted(r.turnId);
            store.appendEvent('turn.started', r.threadId, r.turnId, {});
          } else store.setTurnStatus(r.turnId, 'running');
        });
        this.storageAccepts();
      } catch (err) {
        if (!isStorageRefusal(err)) throw err;
        // Not started: it keeps its place at the head of its thread's line until the store takes writes.
        this.storageRefuses(r.turnId, 'start', err);
        return 'put_back';
      }
      const outcome = await runTurn(
        {
          store,
          model: this.deps.model,
          modelName: overrides?.model ?? config.model,
          mode: modeNow,
          toolsFor: toolsIn,
          toolContext: { workspace: this.workspace, signal: controller.signal, shellTimeoutMs: config.shellTimeoutMs, outputMax: config.toolOutputMax, stateDir: this.stateDir },
          approvals: this.approvals,
          counters: this.deps.counters,
          logger,
        },
        r.threadId,
        r.turnId,
        state,
        decision,
      );
      if (outcome.kind === 'suspended') return 'keep_thread';
      const output = state.output;
      const usage = state.usage;
      recordEnd = () =>
        store.write(() => {
          store.finishTurn(r.turnId, 'completed', { output, usage });
          store.appendEvent('turn.completed', r.threadId, r.turnId, { output });
        });
    } catch (err) {
      const reason = controller.signal.aborted && controller.signal.reason instanceof TurnStopped ? controller.signal.reason.reason : undefined;
      recordEnd = this.stoppedEnding(r, reason, err, state);
    }
    await this.persistEnd(r, recordEnd);
    return 'release';
  }

  /**
   * Writes a turn's end, retrying with backoff while the store refuses writes: the turn keeps its
   * thread meanwhile, so the next turn cannot overtake it and the turn gets exactly one end event.
   */
  private async persistEnd(r: Runnable, recordEnd: () => void): Promise<void> {
    for (;;) {
      try {
        recordEnd();
        this.storageAccepts();
        return;
      } catch (err) {
        if (!isStorageRefusal(err)) throw err;
        this.storageRefuses(r.turnId, 'end', err);
        // Stopping: the row stays `running` and the next start marks it interrupted, with its event.
        if (this.stopping) return;
        let wait: NodeJS.Timeout | undefined;
        await Promise.race([new Promise((resolve) => (wait = setTimeout(resolve, this.storageBackoffMs))), this.stopped]);
        clearTimeout(wait);
      }
    }
  }

  private storageRefuses(turnId: string, step: 'start' | 'end', err: unknown): void {
    this.deps.counters.storageWriteFailures++;
    this.storageBackoffMs = Math.min(Math.max(this.storageBackoffMs * 2, STORAGE_RETRY_MIN_MS), STORAGE_RETRY_MAX_MS);
    this.storageBlockedUntil = Date.now() + this.storageBackoffMs;
    this.deps.logger.error('the store refuses writes; the turn is kept and retried', { turn_id: turnId, step, retry_in_ms: this.storageBackoffMs, err });
  }

  private storageAccepts(): void {
    if (this.storageBackoffMs === 0) return;
    this.storageBackoffMs = 0;
    this.storageBlockedUntil = 0;
    this.deps.logger.info('the store takes writes again; turns carry on');
  }

  /** True while turns wait because the last write of one was refused (disk full, read-only state dir). */
  get storageBlocked(): boolean {
    return this.storageBackoffMs > 0;
  }

  /** The write that records how a turn that did not complete ended. */
  private stoppedEnding(r: Runnable, reason: StopReason | undefined, err: unknown, state: LoopState | undefined): () => void {
    const { store, config, logger } = this.deps;
    const output = state?.output ?? '';
    const usage = state?.usage;
    const ending =
      reason === 'cancel'
        ? { status: 'cancelled' as const, type: 'turn.cancelled' as const, error: undefined }
        : reason === 'shutdown'
          ? { status: 'interrupted' as const, type: 'turn.interrupted' as const, error: INTERRUPTED_ERROR }
          : reason === 'timeout'
            ? { status: 'failed' as const, type: 'turn.failed' as const, error: `turn ran longer than TETHER_TURN_TIMEOUT_S (${config.turnTimeoutMs / 1000} s) and was stopped` }
            : { status: 'failed' as const, type: 'turn.failed' as const, error: shownError(err) };
    if (ending.status === 'failed') logger.warn('turn failed', { turn_id: r.turnId, error: ending.error });
    return () =>
      store.write(() => {
        const pending = store.pendingApprovalOf(r.turnId);
        if (pending) this.approvals.expire(pending.id);
        store.finishTurn(r.turnId, ending.status, { output, usage, ...(ending.error ? { error: ending.error } : {}) });
        store.appendEvent(ending.type, r.threadId, r.turnId, ending.error ? { error: ending.error } : {});
      });
  }

  /** Stops taking turns, aborts running ones (they end `interrupted`) and waits for them. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.storageTimer);
    this.wakeStopped();
    const runs = [...this.active.values()];
    for (const run of runs) run.controller.abort(new TurnStopped('shutdown'));
    await Promise.all(runs.map((r) => r.done));
  }
}
