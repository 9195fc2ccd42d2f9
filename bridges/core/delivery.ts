// Outbound path: runtime events → ledger rows (committed with the cursor) → paced sends per conversation.
import { describeError } from '../../lib/errors.js';
import { RuntimeApiError, type RuntimeEvent, type Thread } from '../../lib/runtime-client.js';
import { DeliveryError, conversationKey, type ConversationRef } from './adapter.js';
import { EXPIRY_REASONS, approvalPromptRows, closedPromptText, type ApprovalAsk } from './approval-prompt.js';
import { chunkLimit, chunkText, shortenText } from './chunker.js';
import { sleep, type BridgeContext } from './context.js';
import { SendBudget, type ReleaseSend } from './send-budget.js';
import { storageFailureOf } from './storage.js';
import type { NewOutbound, OutboundBody, OutboundKind, OutboundRow } from './store.js';
import { refFromMetadata, type ThreadDirectory } from './threads.js';

/** Events older than this are history (a replay after a restart): no typing, no progress lines for them. */
const LIVE_EVENT_MS = 60_000;
/** Longest a cursor move of events that yield nothing waits before it is written. */
const CURSOR_FLUSH_MS = 1_000;
/** After this many failed tries in a row a reply's trouble is logged as a warning (it is still retried, forever). */
const TRANSIENT_WARN_AFTER = 5;

export const TURN_END_TEXT: Record<string, (ev: RuntimeEvent) => string> = {
  'turn.failed': (ev) => `The agent failed on this message: ${String(ev.error ?? 'unknown error')}. Send it again to retry, or /status to check the runtime.`,
  'turn.cancelled': () => 'Stopped. Send a new message when you are ready.',
  'turn.interrupted': () => 'The agent restarted before finishing this message. Send it again to retry.',
};

/**
 * The outbound rows one event of a bridge thread implies. Pure: the caller decides whether a
 * progress line is due (rate limit, config) and commits the rows with the cursor.
 */
export function rowsForEvent(ev: RuntimeEvent, ref: ConversationRef, o: { textLimit: number; progressDue: boolean }): NewOutbound[] {
  switch (ev.type) {
    case 'turn.completed': {
      const output = typeof ev.output === 'string' ? ev.output : '';
      const chunks = chunkText(output.trim() === '' ? '(The agent finished without a text reply.)' : output, chunkLimit(o.textLimit));
      return chunks.map((text) => ({ ref, kind: 'text', body: { text } }));
    }
    case 'turn.failed':
    case 'turn.cancelled':
    case 'turn.interrupted':
      return [{ ref, kind: 'text', body: { text: shortenText(TURN_END_TEXT[ev.type]!(ev), chunkLimit(o.textLimit)) } }];
    case 'approval.requested':
      return approvalPromptRows({ approvalId: String(ev.approval_id), tool: String(ev.tool ?? 'tool'), summary: String(ev.summary ?? '') }, ref, chunkLimit(o.textLimit));
    case 'tool.started':
      if (!o.progressDue) return [];
      return [{ ref, kind: 'text', body: { text: shortenText(`… ${String(ev.tool ?? 'tool')}: ${String(ev.summary ?? '')}`.trim(), Math.min(300, chunkLimit(o.textLimit))), bestEffort: true } }];
    default:
      return [];
  }
}

const TURN_ENDS = new Set(['turn.completed', 'turn.failed', 'turn.cancelled', 'turn.interrupted']);

export class Delivery {
  private readonly budget: SendBudget;
  private readonly senders = new Set<string>();
  private readonly lastProgress = new Map<string, number>();
  /** Conversations whose sends fail transiently right now → the last error. */
  private readonly sendTrouble = new Map<string, string>();
  /** Conversations whose sender stopped on an error of the bridge's own (a full disk) → when to try again. */
  private readonly senderFailures = new Map<string, { attempts: number; retryAt: number }>();
  /**
   * Rows the platform took whose `sent` mark the store refused (a full disk) → the platform's message
   * id: marked on the next try instead of sent again. Lost only with the process (then at most one
   * row per conversation goes twice, as after any kill -9 between a send and its mark).
   */
  private readonly unrecorded = new Map<number, string>();
  /** Conversations with a turn running now → the turn id (typing is shown for them). */
  private readonly running = new Map<string, { ref: ConversationRef; turnId: string; since: number }>();
  /** The event stream is connected: while it is not, no turn's end can arrive, so no typing is shown. */
  private streamUp = false;
  private typingTimer: NodeJS.Timeout | undefined;
  private readonly typingRetry = new Map<string, NodeJS.Timeout>();
  private pollTimer: NodeJS.Timeout | undefined;
  private following: Promise<void> | undefined;
  private relaySince = 0;
  /** The newest event seen that needed no commit of its own, not yet written as the cursor. */
  private deferredCursor: number | undefined;
  private cursorTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: BridgeContext,
    private readonly threads: ThreadDirectory,
  ) {
    this.budget = new SendBudget(ctx.adapter.limits);
  }

  start(): void {
    const { ctx } = this;
    this.relaySince = ctx.store.relaySince(ctx.now());
    this.following = this.keepFollowing();
    this.typingTimer = setInterval(() => this.refreshTyping(), ctx.timing.typingIntervalMs);
    this.pollTimer = setInterval(() => this.wake(), ctx.timing.outboxPollMs);
    this.wake();
  }

  /** follow(), again after a pause if it ever fails (it reconnects by itself; this is the last guard). */
  private async keepFollowing(): Promise<void> {
    const { ctx } = this;
    for (let failures = 0; !ctx.signal.aborted; failures++) {
      try {
        return await this.follow();
      } catch (err) {
        if (!ctx.storage.failed(err, 'following runtime events')) ctx.logger.error('event follower failed; starting it again', { error: err });
        await ctx.storage.pause(failures, ctx.signal);
      }
    }
  }

  private async follow(): Promise<void> {
    const { ctx } = this;
    await this.checkCursor();
    await ctx.client.followEvents({
      after: ctx.store.eventCursor(),
      signal: ctx.signal,
      onEvent: (ev) => this.onEvent(ev),
      onState: (state, error) => {
        this.streamUp = state === 'connected';
        // The state dir refused an event's rows: the runtime is fine, and health says what is not (storage).
        if (state === 'disconnected' && storageFailureOf(error)) return;
        // Recovered: the error that was is no longer the state of things.
        ctx.health.update({ runtime: state, lastError: state === 'connected' ? undefined : error ? describeError(error) : ctx.health.get().lastError });
      },
    });
  }

  /**
   * A runtime whose state was reset numbers its events from 1 again; a cursor beyond its newest
   * event would then wait forever. Checked once at start, when the runtime answers.
   */
  private async checkCursor(): Promise<void> {
    const { ctx } = this;
    const cursor = ctx.store.eventCursor();
    if (cursor === 0) return;
    try {
      const threads = await ctx.client.listThreads({ limit: 500 });
      const newest = Math.max(0, ...threads.map((t) => t.last_seq ?? 0));
      const known = ctx.store.anyConversationThread();
      // Confirmed only when a thread this bridge used is gone too: a fresh runtime, not a short list.
      const gone = known === undefined || (await ctx.client.getThread(known).then(() => false, (err: unknown) => err instanceof RuntimeApiError && err.status === 404));
      if (newest < cursor && gone) {
        ctx.logger.warn('the runtime has fewer events than this bridge already relayed (was its state reset?); following it from the start', { cursor, newest });
        ctx.store.setEventCursor(0);
      }
    } catch (err) {
      ctx.logger.debug('event cursor not checked: runtime not reachable yet', { error: err });
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.typingTimer);
    clearInterval(this.pollTimer);
    for (const t of this.typingRetry.values()) clearTimeout(t);
    this.budget.close();
    await this.following;
    this.flushCursor();
    while (this.senders.size > 0) await sleep(20);
  }

  /** Maps an event to this bridge's conversation, or null when the thread is someone else's. */
  private async conversationOf(ev: RuntimeEvent): Promise<ConversationRef | null> {
    const { store } = this.ctx;
    const now = this.ctx.now();
    const thread = (ev.type === 'thread.created' || ev.type === 'thread.updated') && ev.thread && typeof ev.thread === 'object' ? (ev.thread as Thread) : undefined;
    if (thread) return this.adoptThread(thread, now);
    const known = store.threadConversation(ev.thread_id);
    if (known === null) return null;
    if (known !== undefined) return store.conversation(known)?.ref ?? null;
    // An event of a thread we never saw created (the cursor started later): ask once, then cache.
    try {
      return this.adoptThread(await this.ctx.client.getThread(ev.thread_id), now);
    } catch (err) {
      if (err instanceof RuntimeApiError && err.status === 404) {
        store.unsyncedTransaction(() => store.rememberThread(ev.thread_id, null, now));
        return null;
      }
      throw err; // the stream reconnects and hands this event out again
    }
  }

  /**
   * What a thread's event says about it, remembered: written only when it adds something (the
   * inbox usually mapped a new thread before its thread.created arrives) and not synced, since
   * these rows are derived from events (see BridgeStore.unsyncedTransaction).
   */
  private adoptThread(thread: Thread, now: number): ConversationRef | null {
    const { store, adapter } = this.ctx;
    const metadata = thread.metadata ?? {};
    // A conversation that moved keeps its threads: the store's mapping wins over stale metadata.
    const mapped = store.threadConversation(thread.id);
    // Another bot's thread is not ours; one from before threads named their bot is ours only if this store made it.
    const ours = metadata.bot === undefined ? typeof mapped === 'string' : metadata.bot === this.ctx.identity;
    if (metadata.platform !== adapter.platform || !metadata.conversation || !ours) {
      // A thread with a row keeps it (a null never unmaps one), so there is nothing to add then.
      if (mapped === undefined) store.unsyncedTransaction(() => store.rememberThread(thread.id, null, now));
      return null;
    }
    const key = mapped ?? metadata.conversation;
    const existing = store.conversation(key);
    const ref = existing?.ref ?? refFromMetadata(metadata);
    if (!ref) return null;
    if (!existing || mapped !== key) {
      store.unsyncedTransaction(() => {
        if (!existing) store.rememberConversation(key, ref, now);
        if (mapped !== key) store.rememberThread(thread.id, key, now);
      });
    }
    return ref;
  }

  private async onEvent(ev: RuntimeEvent): Promise<void> {
    const { ctx } = this;
    const ref = ev.thread_id ? await this.conversationOf(ev) : null;
    const now = ctx.now();
    const at = Date.parse(ev.at);
    const live = now - at < LIVE_EVENT_MS;
    let rows: NewOutbound[] = [];
    if (ref && !(at < this.relaySince)) {
      const key = conversationKey(ref);
      let progressDue = false;
      if (ev.type === 'tool.started' && ctx.config.progress && live) {
        const last = this.lastProgress.get(key) ?? 0;
        if (now - last >= ctx.timing.progressIntervalMs) {
          progressDue = true;
          this.lastProgress.set(key, now);
        }
      }
      rows = rowsForEvent(ev, ref, { textLimit: ctx.adapter.textLimit, progressDue });
      this.trackRunning(ev, ref, key, live);
    }
    // An event that leaves nothing to send or record only moves the cursor: that move is deferred
    // (written with the next row or within CURSOR_FLUSH_MS), saving a commit per event.
    // Lost in a crash, it only replays events that yield nothing.
    const records = ref !== null && (ev.type === 'approval.requested' || ev.type === 'approval.resolved' || (TURN_ENDS.has(ev.type) && ctx.store.latestPendingApproval(conversationKey(ref)) !== undefined));
    if (rows.length === 0 && !records) {
      this.deferCursor(ev.seq);
      ctx.health.update({ eventCursor: ev.seq });
      return;
    }
    this.deferredCursor = undefined; // this commit writes a newer cursor
    clearTimeout(this.cursorTimer);
    this.cursorTimer = undefined;
    // Not synced: the rows and the cursor are lost together or not at all, and lost they are
    // derived again from the replayed event; a row is synced by its `sending` mark before it goes.
    // Refused (a full disk), the follower hands the same event out again after a pause.
    this.storing('storing what a runtime event implies', () => ctx.store.unsyncedTransaction(() => {
      if (ref && ev.type === 'approval.requested') {
        ctx.store.recordApproval({ approvalId: String(ev.approval_id), conversation: conversationKey(ref), threadId: ev.thread_id, ...(ev.turn_id ? { turnId: ev.turn_id } : {}), tool: String(ev.tool ?? 'tool'), summary: String(ev.summary ?? ''), now });
      }
      if (ref) rows.unshift(...this.closePrompts(ev, ref));
      if (rows.length > 0) ctx.store.enqueue(rows, now, conversationKey);
      ctx.store.setEventCursor(ev.seq);
    }));
    ctx.health.update({ eventCursor: ev.seq, outboxDepth: ctx.store.outboxDepth(), inboxDepth: ctx.store.inboxDepth() });
    if (rows.length > 0) this.wake();
  }

  /**
   * The edits an event implies for approval prompts, with their rows in the store updated: a
   * decision closes its prompt, and a turn's end expires the prompts it left pending (the runtime
   * expires them without an event of their own). Runs inside the event's transaction, so after a
   * kill -9 the replayed event derives the same edits again. Each edit finds its message when it
   * is sent: the prompt goes before it in the same conversation.
   */
  private closePrompts(ev: RuntimeEvent, ref: ConversationRef): NewOutbound[] {
    const { store } = this.ctx;
    const limit = chunkLimit(this.ctx.adapter.textLimit);
    const edit = (a: ApprovalAsk, text: string): NewOutbound => ({ ref, kind: 'approval_decided', body: { text, approvalId: a.approvalId } });
    if (ev.type === 'approval.resolved' && ev.decision !== 'expired') {
      const approval = store.approval(String(ev.approval_id));
      store.decideApprovalRow(String(ev.approval_id), String(ev.decision ?? 'decided'));
      return approval ? [edit(approval, closedPromptText(approval, { decision: String(ev.decision) }, limit))] : [];
    }
    const expiry = EXPIRY_REASONS[ev.type];
    if (!expiry || !ev.turn_id) return [];
    return store.expireTurnApprovals(ev.thread_id, ev.turn_id, expiry.reason).map((a) => edit(a, closedPromptText(a, { expired: expiry.reason }, limit)));
  }

  /** Runs a write, telling the storage guard how it went; a failure is thrown on. */
  private storing(doing: string, write: () => void): void {
    try {
      write();
    } catch (err) {
      this.ctx.storage.failed(err, doing);
      throw err;
    }
    this.ctx.storage.succeeded();
  }

  private deferCursor(seq: number): void {
    this.deferredCursor = seq;
    this.cursorTimer ??= setTimeout(() => this.flushCursor(), CURSOR_FLUSH_MS);
  }

  private flushCursor(): void {
    clearTimeout(this.cursorTimer);
    this.cursorTimer = undefined;
    if (this.deferredCursor === undefined) return;
    const seq = this.deferredCursor;
    this.deferredCursor = undefined;
    try {
      if (seq > this.ctx.store.eventCursor()) this.ctx.store.unsyncedTransaction(() => this.ctx.store.setEventCursor(seq));
    } catch (err) {
      // Runs from a timer: a throw here would end the process. Kept for the next flush instead.
      if (!this.ctx.storage.failed(err, 'moving the event cursor')) this.ctx.logger.error('cannot move the event cursor; trying again', { error: err });
      this.deferredCursor ??= seq;
      if (!this.ctx.signal.aborted) this.cursorTimer ??= setTimeout(() => this.flushCursor(), CURSOR_FLUSH_MS);
    }
  }

  private trackRunning(ev: RuntimeEvent, ref: ConversationRef, key: string, live: boolean): void {
    if ((ev.type === 'turn.started' || (ev.type === 'approval.resolved' && ev.decision === 'approve')) && live && ev.turn_id) {
      const prev = this.running.get(key);
      const first = !prev;
      this.running.set(key, { ref, turnId: ev.turn_id, since: prev?.turnId === ev.turn_id ? prev.since : Date.now() });
      if (first) this.typeNow(key, ref);
    } else if (TURN_ENDS.has(ev.type) || ev.type === 'approval.requested') {
      const r = this.running.get(key);
      if (r && (!ev.turn_id || r.turnId === ev.turn_id)) this.running.delete(key);
    }
  }

  private refreshTyping(): void {
    const now = Date.now();
    for (const [key, r] of this.running) {
      // A turn whose end never arrives must not type forever.
      if (now - r.since > this.ctx.timing.typingMaxMs) {
        this.running.delete(key);
        this.ctx.logger.info('typing stopped: the turn has run longer than typing is shown', { conversation: key, turn: r.turnId });
        continue;
      }
      this.typeNow(key, r.ref);
    }
  }

  private typeNow(key: string, ref: ConversationRef): void {
    const { adapter } = this.ctx;
    if (!adapter.typing || !this.streamUp || this.senders.has(key) || !this.running.has(key)) return;
    // Typing never waits and never makes a reply wait: skipped when the budget has no token to spare.
    if (!this.budget.tryBestEffort(ref)) {
      // Try again once the chat could spare one (after a burst of chunks), not only at the next refresh.
      const wait = this.budget.bestEffortWait(ref);
      if (wait < this.ctx.timing.typingIntervalMs && !this.typingRetry.has(key)) {
        this.typingRetry.set(
          key,
          setTimeout(() => {
            this.typingRetry.delete(key);
            this.typeNow(key, ref);
          }, wait + 5).unref(),
        );
      }
      return;
    }
    adapter.typing(ref).catch((err: unknown) => {
      // Flood control on typing holds the chat's budget: no typing (or reply) goes into it before the wait is over.
      if (err instanceof DeliveryError && err.failure.kind === 'retry_after') {
        this.budget.hold(ref, Date.now() + err.failure.seconds * 1000);
        this.ctx.logger.info('flood control on typing: the chat waits', { conversation: key, seconds: err.failure.seconds });
      } else this.ctx.logger.debug('typing failed', { error: err });
    });
  }

  /** Starts a sender for every conversation with open rows that has none running (nor one failing, before its backoff is over). */
  wake(): void {
    const { ctx } = this;
    if (ctx.signal.aborted) return;
    let open: string[];
    try {
      open = ctx.store.openOutboxConversations();
    } catch (err) {
      if (!ctx.storage.failed(err, 'reading the delivery ledger')) ctx.logger.error('cannot read the delivery ledger', { error: err });
      return;
    }
    for (const conversation of open) {
      const failing = this.senderFailures.get(conversation);
      if (this.senders.has(conversation) || (failing && failing.retryAt > Date.now())) continue;
      this.senders.add(conversation);
      void this.drain(conversation)
        .then(() => this.senderFailures.delete(conversation))
        .catch((err: unknown) => {
          // The poll timer starts the sender again once the backoff is over (a full disk: until it takes writes).
          const attempts = (failing?.attempts ?? 0) + 1;
          this.senderFailures.set(conversation, { attempts, retryAt: Date.now() + Math.min(ctx.timing.storageRetryMaxMs, 250 * 2 ** Math.min(attempts, 10)) });
          if (!ctx.storage.failed(err, 'sending replies')) ctx.logger.error('sender failed; retrying', { conversation, attempts, error: err });
        })
        .finally(() => {
          this.senders.delete(conversation);
          const r = this.running.get(conversation);
          if (r) this.typeNow(conversation, r.ref);
        });
    }
  }

  private async drain(conversation: string): Promise<void> {
    const { ctx } = this;
    let transient = 0;
    for (;;) {
      if (ctx.signal.aborted) return;
      const row = ctx.store.nextOutbound(conversation);
      if (!row) return;
      const sentBefore = this.unrecorded.get(row.id);
      if (sentBefore !== undefined) {
        this.recordSent(row.id, sentBefore);
        continue;
      }
      let release: ReleaseSend = () => undefined;
      if (row.body.bestEffort) {
        // A progress line is worth nothing late: sent only when the budget can spare it, else skipped.
        if (!this.budget.tryBestEffort(row.ref)) {
          ctx.store.dropOutbound(row.id, 'skipped: no send budget to spare');
          continue;
        }
      } else release = await this.budget.acquire(row.ref, ctx.signal);
      if (ctx.signal.aborted) return release();
      try {
        ctx.store.markSending(row.id);
      } catch (err) {
        release();
        throw err;
      }
      let sent = false;
      try {
        // The in-flight slot is given back as soon as the platform answered, before any backoff below.
        const messageId = await this.sendRow(row).finally(release);
        sent = true;
        this.recordSent(row.id, messageId);
        if (transient > 0) this.noteSendTrouble(conversation, undefined);
        transient = 0;
      } catch (err) {
        // The platform has the message; only its mark failed (the state dir): retried by wake(), never resent.
        if (sent) throw err;
        // An adapter that throws something unclassified: treat it as transient, but say so.
        if (!(err instanceof DeliveryError)) ctx.logger.warn('adapter threw an unclassified error; retrying', { conversation, error: err });
        const e = err instanceof DeliveryError ? err : new DeliveryError({ kind: 'transient' }, describeError(err));
        ctx.store.noteSendError(row.id, e.message);
        const f = e.failure;
        switch (f.kind) {
          case 'retry_after':
            ctx.logger.info('flood control: waiting before resending', { conversation, seconds: f.seconds });
            this.budget.hold(row.ref, Date.now() + f.seconds * 1000);
            break;
          case 'transient':
            // A platform outage of any length loses no reply: retried with capped backoff, and said so.
            if (++transient === TRANSIENT_WARN_AFTER) ctx.logger.warn('sends keep failing; retrying until the platform answers', { conversation, attempts: transient, error: e });
            this.noteSendTrouble(conversation, e.message);
            await sleep(Math.min(ctx.timing.sendRetryMaxMs, 500 * 2 ** Math.min(transient, 10)), ctx.signal);
            break;
          case 'too_long': {
            const size = [...row.body.text].length;
            const smaller = this.smallerRows(row, Math.max(16, Math.floor(size / 2)));
            if (size <= 16 || smaller.length < 2) {
              ctx.logger.error('platform refuses even a short message as too long; this message is dropped', { conversation, row: row.id });
              ctx.store.dropOutbound(row.id, 'too long');
              break;
            }
            ctx.store.splitOutbound(row, smaller);
            break;
          }
          case 'moved': {
            const to = conversationKey(f.to);
            ctx.logger.info('conversation moved; resending there', { from: conversation, to });
            ctx.store.moveConversation(conversation, to, f.to, ctx.now());
            void this.threads.syncMoved(f.to);
            this.wake();
            return;
          }
          case 'rejected':
            ctx.logger.warn('the platform refused one message; it is dropped, the conversation goes on', { conversation, row: row.id, reason: f.reason });
            ctx.store.dropOutbound(row.id, f.reason);
            break;
          case 'gone': {
            const dropped = ctx.store.dropConversation(conversation, f.reason);
            this.running.delete(conversation);
            ctx.logger.warn('conversation is gone; its pending replies are dropped', { conversation, reason: f.reason, dropped });
            return;
          }
          case 'fatal':
            ctx.fail(`the platform refused the bridge: ${f.reason}`);
            return;
        }
      }
    }
  }

  /**
   * A row the platform called too long, as smaller rows: text is re-chunked; an approval prompt
   * is laid out again (its summary before a short message with the buttons), never cut.
   */
  private smallerRows(row: OutboundRow, limit: number): Array<{ kind: OutboundKind; body: OutboundBody }> {
    if (row.kind === 'approval' && row.body.approvalId && row.body.summary !== undefined && !row.body.secret) {
      const a = { approvalId: row.body.approvalId, tool: row.body.tool ?? 'tool', summary: row.body.summary };
      const rows = approvalPromptRows(a, row.ref, limit).map(({ kind, body }) => ({ kind, body }));
      // Already the short message with the buttons: laying it out again would only repeat the summary.
      return [...rows.at(-1)!.body.text].length < [...row.body.text].length ? rows : [];
    }
    return chunkText(row.body.text, limit).map((text) => ({ kind: row.kind, body: { ...row.body, text } }));
  }

  /** Marks a row sent (and erases a code in it); kept in `unrecorded` until the store has taken the mark. */
  private recordSent(id: number, messageId: string): void {
    this.unrecorded.set(id, messageId);
    this.ctx.store.transaction(() => {
      this.ctx.store.markSent(id, messageId, this.ctx.now());
      this.ctx.store.scrubSecret(id);
    });
    this.unrecorded.delete(id);
    this.ctx.storage.succeeded();
  }

  /** Health names how many conversations have replies that cannot be sent right now, and why. */
  private noteSendTrouble(conversation: string, error: string | undefined): void {
    if (error === undefined) this.sendTrouble.delete(conversation);
    else this.sendTrouble.set(conversation, error);
    const last = [...this.sendTrouble.values()].at(-1);
    this.ctx.health.update({ sendFailing: this.sendTrouble.size, lastSendError: last });
    if (error === undefined && this.sendTrouble.size === 0) this.ctx.logger.info('sends go through again', { conversation });
  }

  private async sendRow(row: OutboundRow): Promise<string> {
    const { adapter, store } = this.ctx;
    switch (row.kind) {
      case 'text':
        return (await adapter.send(row.ref, row.body.text, row.sendKey)).messageId;
      case 'approval': {
        const prompt = { approvalId: row.body.approvalId ?? '', tool: row.body.tool ?? '', summary: row.body.summary ?? '', text: row.body.text };
        const sent = adapter.askApproval ? await adapter.askApproval(row.ref, prompt, row.sendKey) : await adapter.send(row.ref, row.body.text, row.sendKey);
        if (row.body.approvalId) store.setApprovalPrompt(row.body.approvalId, sent.messageId);
        return sent.messageId;
      }
      case 'approval_decided': {
        // Looked up now, not when the row was made: the prompt may have been sent only since (rows of older versions carry it).
        const promptMessageId = row.body.promptMessageId ?? (row.body.approvalId ? store.approval(row.body.approvalId)?.promptMessageId : null);
        if (adapter.markApprovalDecided && promptMessageId) {
          await adapter.markApprovalDecided(row.ref, { messageId: promptMessageId }, row.body.text).catch((err: unknown) => this.ctx.logger.debug('approval prompt not updated', { error: err }));
        }
        return promptMessageId ?? '';
      }
    }
  }
}
