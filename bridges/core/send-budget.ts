// The send budget at run time: pacing.ts's token buckets, a cap on sends in flight, and one first-come queue of senders waiting, served by one timer.
import type { ConversationRef, SendLimits } from './adapter.js';
import { chatWait, createPacingState, grantWaiting, holdChat, sendWait, trySend, type PacingState } from './pacing.js';

interface Waiter {
  ref: ConversationRef;
  grant(release: () => void): void;
}

/** Ends one send's hold on its in-flight slot; calling it again does nothing. */
export type ReleaseSend = () => void;

const NOTHING_HELD: ReleaseSend = () => undefined;

export class SendBudget {
  private readonly state: PacingState = createPacingState();
  /** Senders waiting for a token or a slot, oldest first. */
  private readonly waiting: Waiter[] = [];
  private inFlight = 0;
  private readonly maxInFlight: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: SendLimits,
    private readonly clock: () => number = Date.now,
  ) {
    this.maxInFlight = limits.maxInFlight !== undefined && limits.maxInFlight >= 1 ? Math.floor(limits.maxInFlight) : Number.POSITIVE_INFINITY;
  }

  /**
   * Resolves once a send into `ref` may go, its tokens taken and an in-flight slot held until the
   * returned release is called (when the send has its answer). Waiting for a chat's own budget
   * never holds up other chats. When `signal` aborts it resolves at once holding nothing: the
   * caller checks the signal.
   */
  acquire(ref: ConversationRef, signal?: AbortSignal): Promise<ReleaseSend> {
    if (signal?.aborted) return Promise.resolve(NOTHING_HELD);
    return new Promise((resolve) => {
      const onAbort = () => {
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve(NOTHING_HELD);
      };
      const waiter: Waiter = {
        ref,
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      this.serve();
    });
  }

  /**
   * A best-effort send (typing): takes its tokens and returns true only if that leaves the chat a
   * token for its reply, no other chat's reply is waiting for the bot's budget and the in-flight
   * slots are not all taken; never waits. It holds no slot (it is not awaited).
   */
  tryBestEffort(ref: ConversationRef): boolean {
    const now = this.clock();
    if (this.inFlight >= this.maxInFlight) return false;
    if (this.waiting.some((w) => chatWait(this.state, this.limits, w.ref, now) === 0)) return false;
    return trySend(this.state, this.limits, ref, now, 'best_effort');
  }

  /** How long until a best-effort send into `ref` could go (0 = now), ignoring queued replies. */
  bestEffortWait(ref: ConversationRef): number {
    return sendWait(this.state, this.limits, ref, this.clock(), 'best_effort');
  }

  /** Flood control said to wait: nothing goes into that chat before `until`. */
  hold(ref: ConversationRef, until: number): void {
    holdChat(this.state, this.limits, ref, until);
  }

  /** Releases every waiter (the bridge is stopping) and the timer. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.waiting.splice(0)) w.grant(NOTHING_HELD);
  }

  private serve(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const free = this.maxInFlight - this.inFlight;
    if (free <= 0) return; // a release serves again
    const { granted, nextCheckMs } = grantWaiting(this.state, this.limits, this.waiting.map((w) => w.ref), this.clock(), free);
    const served = granted.map((i) => this.waiting[i]!);
    for (let i = granted.length - 1; i >= 0; i--) this.waiting.splice(granted[i]!, 1);
    for (const w of served) w.grant(this.holdSlot());
    if (this.waiting.length > 0 && nextCheckMs !== undefined && this.inFlight < this.maxInFlight) this.timer = setTimeout(() => this.serve(), Math.max(1, nextCheckMs));
  }

  private holdSlot(): ReleaseSend {
    this.inFlight++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.inFlight--;
      if (this.waiting.length > 0) this.serve();
    };
  }
}
