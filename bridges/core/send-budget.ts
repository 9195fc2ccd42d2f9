// The send budget at run time: pacing.ts's token buckets plus one first-come queue of senders waiting for a token, served by one timer.
import type { ConversationRef, SendLimits } from './adapter.js';
import { chatWait, createPacingState, grantWaiting, holdChat, sendWait, trySend, type PacingState } from './pacing.js';

interface Waiter {
  ref: ConversationRef;
  grant(): void;
}

export class SendBudget {
  private readonly state: PacingState = createPacingState();
  /** Senders waiting for a token, oldest first. */
  private readonly waiting: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: SendLimits,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Resolves once a send into `ref` may go, its tokens taken (or at once when `signal` aborts:
   * the caller checks it). Waiting for a chat's own budget never holds up other chats.
   */
  acquire(ref: ConversationRef, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const onAbort = () => {
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve();
      };
      const waiter: Waiter = {
        ref,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      this.serve();
    });
  }

  /**
   * A best-effort send (typing): takes its tokens and returns true only if that leaves the chat a
   * token for its reply and no other chat's reply is waiting for the global budget; never waits.
   */
  tryBestEffort(ref: ConversationRef): boolean {
    const now = this.clock();
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
    for (const w of this.waiting.splice(0)) w.grant();
  }

  private serve(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const { granted, nextCheckMs } = grantWaiting(this.state, this.limits, this.waiting.map((w) => w.ref), this.clock());
    const served = granted.map((i) => this.waiting[i]!);
    for (let i = granted.length - 1; i >= 0; i--) this.waiting.splice(granted[i]!, 1);
    for (const w of served) w.grant();
    if (this.waiting.length > 0 && nextCheckMs !== undefined) this.timer = setTimeout(() => this.serve(), Math.max(1, nextCheckMs));
  }
}
