// Inbound path: gate each message (dedupe, access, pairing), commit it, and post turns per conversation in order.
import { describeError } from '../../lib/errors.js';
import { RuntimeApiError, RuntimeUnavailableError } from '../../lib/runtime-client.js';
import type { InboundAction, InboundMessage } from './adapter.js';
import { conversationKey } from './adapter.js';
import { decideAccess, mayUseAgent, type AccessDecision } from './access.js';
import { findCommand, parseCommand, unknownCommandText, type CommandCall } from './commands.js';
import { sleep, type BridgeContext } from './context.js';
import { REQUEST_APPROVAL_PREFIX, attemptPair, openAccessRequest, ownerConversations, requestPromptText, requestReplyText } from './enrolment.js';
import { PAIR_REFUSED_TEXT } from './pairing.js';
import { ButtonPresses, CHAT_NOT_ALLOWED_TEXT } from './presses.js';
import { storageFailureOf } from './storage.js';
import type { InboxRow } from './store.js';
import type { ThreadDirectory } from './threads.js';

/** The answer to a message the agent cannot read; `what` is the adapter's phrase ("a photo"). */
export function unsupportedMessageText(what: string): string {
  return `I can only read text for now (that was ${what}); send your request as text or add a caption.`;
}

export class Inbox {
  private readonly busy = new Set<string>();
  /** Answers of commands that ran but could not be stored yet, by inbox row id. */
  private readonly answered = new Map<number, string>();
  private readonly presses: ButtonPresses;

  constructor(
    private readonly ctx: BridgeContext,
    private readonly threads: ThreadDirectory,
  ) {
    this.presses = new ButtonPresses(ctx, () => this.wake());
  }

  /** Commits the message (or its answer) and returns; the platform may confirm it once this resolves. */
  async onMessage(m: InboundMessage): Promise<void> {
    const { ctx } = this;
    const now = ctx.now();
    const conversation = conversationKey(m.conversation);
    if (ctx.store.hasInbound(m.dedupeKey)) {
      ctx.logger.debug('redelivered message ignored', { dedupeKey: m.dedupeKey });
      return;
    }
    const decision = decideAccess(m, { senderRole: ctx.roleOf(m.sender.id), chatAllowed: ctx.chatAllowed(m.conversation.chatId), pairing: ctx.config.pairing });
    // The row's status and the reply it earns commit together: a crash between them would lose the
    // reply (the redelivered update is then a duplicate) or open a request nobody is told about.
    let wake: boolean;
    try {
      wake = ctx.store.transaction(() => this.admit(m, decision, conversation, now));
    } catch (err) {
      // Thrown on to the adapter, which does not confirm the message: the platform hands it over again.
      ctx.storage.failed(err, 'storing a message');
      throw err;
    }
    ctx.storage.succeeded();
    if (wake) this.wake();
  }

  /** Records the message as the access decision says and queues its answer; true when a poster should start. Runs in one transaction. */
  private admit(m: InboundMessage, decision: AccessDecision, conversation: string, now: number): boolean {
    const { ctx } = this;
    const base = { dedupeKey: m.dedupeKey, ref: m.conversation, conversation, senderId: m.sender.id, text: m.text, now };
    const handled = () => ctx.store.insertInbound({ ...base, status: 'handled' });
    switch (decision.kind) {
      case 'accept':
        if (m.unsupported !== undefined) {
          // Answered here, not by the poster: nothing to send the runtime, and no reason to wait for it.
          if (!handled()) return false;
          if (m.conversation.kind === 'private') ctx.store.setUserRef(m.sender.id, m.conversation);
          ctx.logger.info('message without text answered, not relayed', { conversation, kind: m.unsupported });
          ctx.reply(m.conversation, unsupportedMessageText(m.unsupported));
          return false;
        }
        if (!ctx.store.insertInbound({ ...base, status: 'pending' })) return false;
        if (m.conversation.kind === 'private') ctx.store.setUserRef(m.sender.id, m.conversation);
        return true;
      case 'ignore':
        ctx.logger.debug('message not relayed', { reason: decision.reason, conversation, sender: m.sender.id });
        return false;
      case 'refuse':
        if (handled()) ctx.reply(m.conversation, decision.reply);
        return false;
      case 'pair_group':
        if (!handled()) return false;
        ctx.store.allow({ kind: 'chat', id: m.conversation.chatId, role: 'user', addedBy: `${ctx.adapter.platform}:${m.sender.id}`, now });
        ctx.logger.info('group paired by an owner', { chat: m.conversation.chatId, owner: m.sender.id });
        ctx.reply(m.conversation, 'This group is paired. Allowed members can talk to the agent by mentioning or replying to the bot; others are ignored.');
        return false;
      case 'pair_private': {
        if (!handled()) return false;
        const typed = parseCommand(m.text)?.args ?? '';
        if (!typed) {
          ctx.reply(m.conversation, `Send /pair followed by the code that \`tether pair code ${ctx.adapter.platform}\` printed on the host.`);
          return false;
        }
        const verdict = attemptPair(ctx.store, { senderId: m.sender.id, typed, ref: m.conversation, now });
        if (verdict.ok) {
          ctx.store.setUserRef(m.sender.id, m.conversation);
          ctx.logger.info('paired a new owner', { sender: m.sender.id, conversation });
          ctx.reply(m.conversation, 'Paired: you are an owner of this agent. Send any message to talk to it; /help lists the commands.');
          return false;
        }
        const fields = { sender: m.sender.id, reason: verdict.reason };
        if (verdict.reason === 'pairing_frozen') ctx.logger.warn('pairing frozen: too many wrong codes in the last hour across senders', fields);
        else if (verdict.reason === 'sender_locked') ctx.logger.warn('pairing refused: sender locked out after too many wrong codes', fields);
        else ctx.logger.info('pairing refused', fields);
        if (verdict.lockedUntil !== undefined) ctx.logger.warn('pairing: this sender is locked until the time given, after 5 wrong codes within an hour', { sender: m.sender.id, until: new Date(verdict.lockedUntil).toISOString() });
        if (verdict.frozenUntil !== undefined) ctx.logger.warn('pairing frozen for everyone until the time given: 20 wrong codes within an hour across senders', { until: new Date(verdict.frozenUntil).toISOString() });
        ctx.reply(m.conversation, PAIR_REFUSED_TEXT);
        return false;
      }
      case 'request': {
        if (!handled()) return false;
        const outcome = openAccessRequest(ctx.store, { ref: m.conversation, senderId: m.sender.id, ...(m.sender.name !== undefined ? { senderName: m.sender.name } : {}), now });
        if (outcome.kind !== 'opened') {
          ctx.logger.debug('stranger not answered', { reason: outcome.kind, sender: m.sender.id });
          return false;
        }
        ctx.logger.info('access request opened', { sender: m.sender.id, conversation, request: outcome.requestId });
        ctx.send(m.conversation, 'text', { text: requestReplyText(ctx.adapter.platform, m.sender.id, outcome.code), secret: true });
        const text = requestPromptText(ctx.adapter.platform, { requesterId: m.sender.id, ...(m.sender.name !== undefined ? { requesterName: m.sender.name } : {}), code: outcome.code });
        for (const owner of ownerConversations(ctx.store, [...ctx.allowlist])) {
          ctx.send(owner, 'approval', { text, approvalId: `${REQUEST_APPROVAL_PREFIX}${outcome.requestId}`, tool: 'access request', summary: text, secret: true });
        }
        return false;
      }
    }
  }

  /** A button press: committed, then answered or queued for the poster (see ButtonPresses); resolves at once. */
  onAction(a: InboundAction): Promise<void> {
    return this.presses.onAction(a);
  }

  /** Starts a poster for every conversation with pending messages that has none running. */
  wake(): void {
    const { ctx } = this;
    for (const conversation of ctx.store.pendingInboxConversations()) {
      if (this.busy.has(conversation) || ctx.signal.aborted) continue;
      this.busy.add(conversation);
      // drain() handles its own failures; this catch is the last guard against a rejection nobody handles.
      void this.drain(conversation)
        .catch((err: unknown) => ctx.logger.error('inbox poster stopped; the next message restarts it', { conversation, error: err }))
        .finally(() => {
          this.busy.delete(conversation);
          // A row may have come in between the poster's last look and now.
          if (!ctx.signal.aborted && this.hasPending(conversation)) this.wake();
        });
    }
  }

  private hasPending(conversation: string): boolean {
    try {
      return this.ctx.store.nextInbound(conversation) !== undefined;
    } catch (err) {
      this.ctx.logger.warn('cannot read the inbox', { conversation, error: err });
      return false;
    }
  }

  /** Resolves when every poster has finished its current step (after stop). */
  get idle(): boolean {
    return this.busy.size === 0;
  }

  /**
   * Posts a conversation's pending rows in order until none is left. A step that fails for any
   * reason but the runtime's (the state dir refusing writes, a bug) is logged and retried with
   * backoff: never a rejection that ends the process, never a row skipped.
   */
  private async drain(conversation: string): Promise<void> {
    const { ctx } = this;
    let failures = 0;
    while (!ctx.signal.aborted) {
      try {
        const row = ctx.store.nextInbound(conversation);
        if (!row) return;
        await this.step(conversation, row);
        failures = 0;
        ctx.storage.succeeded();
      } catch (err) {
        if (ctx.signal.aborted) return;
        if (!ctx.storage.failed(err, 'posting a message to the runtime')) ctx.logger.error('inbox poster failed; retrying', { conversation, attempt: failures + 1, error: err });
        await ctx.storage.pause(failures++, ctx.signal);
      }
    }
  }

  /** One row: processed, or on the runtime's failure noted and waited for (retryable) or answered (refused). */
  private async step(conversation: string, row: InboxRow): Promise<void> {
    const { ctx } = this;
    try {
      await this.process(row);
    } catch (err) {
      if (ctx.signal.aborted || storageFailureOf(err)) throw err;
      if (isRetryable(err)) {
        ctx.health.update({ runtime: 'disconnected', lastError: describeError(err) });
        const waited = ctx.now() - row.receivedAt;
        // A press's presser was already told the result follows in chat.
        const tell = !row.toldWaiting && !row.action && waited >= ctx.timing.queuedNoticeMs;
        ctx.store.transaction(() => {
          ctx.store.noteInboundAttempt(row.id, tell);
          if (tell) ctx.reply(row.ref, 'The agent is restarting; your message is queued and will be sent when it is back.');
        });
        await sleep(Math.min(ctx.timing.runtimeRetryMaxMs, 250 * 2 ** Math.min(row.attempts, 6)), ctx.signal);
        return;
      }
      ctx.logger.warn('message refused by the runtime', { conversation, error: err });
      if (row.action) return this.presses.settle(row, 'The agent refused this decision.', `The agent refused the decision: ${describeError(err)}`);
      ctx.store.transaction(() => {
        ctx.store.finishInbound(row.id, { error: describeError(err) });
        ctx.reply(row.ref, `The agent could not take this message: ${describeError(err)}`);
      });
    }
  }

  private async process(row: InboxRow): Promise<void> {
    const { ctx } = this;
    // Access is asked again now: a revoke while this waited (for a down runtime, behind a slow turn) stops it.
    if (!mayUseAgent(row.ref.kind, { senderRole: ctx.roleOf(row.senderId), chatAllowed: ctx.chatAllowed(row.ref.chatId) })) {
      ctx.logger.info(`queued ${row.action ? 'button press' : 'message'} dropped: its sender or chat is no longer allowed`, { conversation: row.conversation, sender: row.senderId });
      if (row.action) return this.presses.settle(row, CHAT_NOT_ALLOWED_TEXT, undefined);
      ctx.store.finishInbound(row.id, { error: 'no longer allowed', forgetText: true });
      return;
    }
    if (row.action) return this.presses.decide(row, row.action);
    const command = parseCommand(row.text);
    const handler = command && findCommand(command.name);
    // A slash word we do not know, followed by more text, is a request (`/tmp is full…`); alone it is a mistyped command.
    if (command && (handler || command.args === '')) {
      const call: CommandCall = { ctx, threads: this.threads, message: row, args: command.args };
      // A command runs once: when its answer cannot be stored (a full disk), the retry stores the
      // same answer instead of running it again (a second /new would archive the new thread).
      const text = this.answered.get(row.id) ?? (handler ? await handler.run(call) : unknownCommandText(command.name));
      this.answered.set(row.id, text);
      // A command's text may hold a code (/approve CODE): it is not kept once answered.
      ctx.store.transaction(() => {
        ctx.store.finishInbound(row.id, { forgetText: true });
        ctx.reply(row.ref, text);
      });
      this.answered.delete(row.id);
      return;
    }
    if (row.text.trim() === '') {
      ctx.store.transaction(() => {
        ctx.store.finishInbound(row.id, { error: 'empty' });
        ctx.reply(row.ref, 'Only text reaches the agent for now: send your request as a text message.');
      });
      return;
    }
    const thread = await this.threads.ensure(row.ref);
    let turn;
    try {
      turn = await ctx.client.postTurn(thread.id, row.text, `${ctx.adapter.platform}:${row.dedupeKey}`);
    } catch (err) {
      // The thread vanished between the check and the post: find or make another one next time.
      if (err instanceof RuntimeApiError && err.status === 404) {
        this.threads.forget(thread.id);
        ctx.store.clearConversationThread(row.conversation);
        throw new RuntimeUnavailableError(ctx.client.url, 'thread not found; retrying with a new thread');
      }
      throw err;
    }
    ctx.store.finishInbound(row.id, { turnId: turn.id });
    ctx.health.update({ runtime: 'connected', lastError: undefined });
  }
}

function isRetryable(err: unknown): boolean {
  return err instanceof RuntimeUnavailableError || (err instanceof RuntimeApiError && (err.status >= 500 || err.status === 429 || err.status === 401));
}
