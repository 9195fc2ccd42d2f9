// Which turn runs next: FIFO per thread, at most `workers` running across threads. No I/O, so it is table-tested.

export interface QueuedTurn {
  turnId: string;
  threadId: string;
}

export interface Runnable extends QueuedTurn {
  /** `start`: a queued turn begins; `resume`: a turn whose approval was decided carries on. */
  kind: 'start' | 'resume';
}

export class TurnQueue {
  private readonly queued: QueuedTurn[] = [];
  private readonly resumes: QueuedTurn[] = [];
  /** Thread → the turn that owns it: running, or waiting for a person. Later turns of the thread wait. */
  private readonly holders = new Map<string, string>();
  private readonly running = new Set<string>();

  constructor(private readonly workers: number) {}

  get queuedCount(): number {
    return this.queued.length;
  }

  get runningCount(): number {
    return this.running.size;
  }

  add(turn: QueuedTurn): void {
    this.queued.push(turn);
  }

  /** Drops a queued turn (cancelled before it started); false when it was not queued. */
  remove(turnId: string): boolean {
    const i = this.queued.findIndex((q) => q.turnId === turnId);
    if (i < 0) return false;
    this.queued.splice(i, 1);
    return true;
  }

  isQueued(turnId: string): boolean {
    return this.queued.some((q) => q.turnId === turnId);
  }

  /** A turn waiting for a person keeps its thread: at start-up, for turns suspended before a restart. */
  hold(turn: QueuedTurn): void {
    this.holders.set(turn.threadId, turn.turnId);
  }

  /** A held turn may carry on; it is served before new turns, since its thread is already taken. */
  requestResume(turn: QueuedTurn): void {
    if (this.holders.get(turn.threadId) !== turn.turnId) this.holders.set(turn.threadId, turn.turnId);
    if (!this.resumes.some((r) => r.turnId === turn.turnId)) this.resumes.push(turn);
  }

  /** The next turn to run now, marked running; undefined when no worker is free or nothing may run. */
  take(): Runnable | undefined {
    if (this.running.size >= this.workers) return undefined;
    const resume = this.resumes.shift();
    if (resume) {
      this.running.add(resume.turnId);
      return { ...resume, kind: 'resume' };
    }
    const i = this.queued.findIndex((q) => !this.holders.has(q.threadId));
    if (i < 0) return undefined;
    const [next] = this.queued.splice(i, 1) as [QueuedTurn];
    this.holders.set(next.threadId, next.turnId);
    this.running.add(next.turnId);
    return { ...next, kind: 'start' };
  }

  /**
   * A run of the turn ended. `keepThread`: it now waits for a person, so its worker is free but
   * the thread stays taken; otherwise the turn is over and the thread's next turn may start.
   */
  release(turn: QueuedTurn, keepThread: boolean): void {
    this.running.delete(turn.turnId);
    if (!keepThread && this.holders.get(turn.threadId) === turn.turnId) this.holders.delete(turn.threadId);
  }

  /**
   * A turn taken to run could not start (the store refused the write): it goes back to the head of
   * the line it came from, so nothing of its thread overtakes it.
   */
  putBack(turn: Runnable): void {
    this.running.delete(turn.turnId);
    const ref = { turnId: turn.turnId, threadId: turn.threadId };
    if (turn.kind === 'resume') {
      this.resumes.unshift(ref);
      return;
    }
    if (this.holders.get(turn.threadId) === turn.turnId) this.holders.delete(turn.threadId);
    this.queued.unshift(ref);
  }

  /** A held (waiting) turn ended without running again: cancelled while waiting for a person. */
  unhold(turn: QueuedTurn): void {
    const r = this.resumes.findIndex((x) => x.turnId === turn.turnId);
    if (r >= 0) this.resumes.splice(r, 1);
    if (this.holders.get(turn.threadId) === turn.turnId) this.holders.delete(turn.threadId);
  }
}
