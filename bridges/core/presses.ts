// Button presses: judged and committed at once, decided in the background in their conversation's order, answered within the platform's window.
import type { InboundAction } from './adapter.js';
import { conversationKey } from './adapter.js';
import { mayUseAgent } from './access.js';
import type { BridgeContext } from './context.js';
import { decideRuntimeApproval, decisionText, pressAnswer } from './decisions.js';
import { REQUEST_APPROVAL_PREFIX, decideAccessRequest, openRequestById } from './enrolment.js';
import type { InboxAction, InboxRow } from './store.js';

/** The answer to a press on a button in a chat that is not (or no longer) allowed. */
export const CHAT_NOT_ALLOWED_TEXT = 'This chat is no longer allowed to use the agent.';
/** The answer to a press whose decision is still with the runtime when the answer cannot wait longer. */
export const PRESS_RECEIVED_TEXT = 'Received. The agent is slow to answer; the result follows in this chat.';

type Answer = (text: string) => void;

export class ButtonPresses {
  /** Presses whose presser is still waiting for the answer, by dedupe key; a press is answered once. */
  private readonly waiting = new Map<string, { answer: Answer; timer: NodeJS.Timeout }>();

  constructor(
    private readonly ctx: BridgeContext,
    /** Starts the inbox's poster of a conversation with a press queued. */
    private readonly wakeInbox: () => void,
  ) {
    ctx.signal.addEventListener('abort', () => {
      for (const w of this.waiting.values()) clearTimeout(w.timer);
      this.waiting.clear();
    });
  }

  /**
   * Commits the press and resolves at once, so the platform may confirm it and go on receiving.
   * What the bridge can judge alone (who pressed, where, an access request, a decided approval) is
   * answered now; a decision for the runtime waits in the conversation's inbox like a message, and
   * its presser gets the result, or, after `pressAnswerMs`, an acknowledgement and the result in chat.
   */
  async onAction(a: InboundAction): Promise<void> {
    const { ctx } = this;
    const now = ctx.now();
    const conversation = conversationKey(a.conversation);
    const answer: Answer = (text) => void a.answer(text).catch((err: unknown) => ctx.logger.debug('cannot answer a button press', { error: err }));
    let outcome: { duplicate: true } | { text: string | undefined };
    try {
      outcome = ctx.store.transaction(() => {
        if (!ctx.store.insertInbound({ dedupeKey: a.dedupeKey, ref: a.conversation, conversation, senderId: a.sender.id, text: '', status: 'handled', now })) return { duplicate: true as const };
        const text = this.judge(a, conversation, now);
        if (text === undefined) ctx.store.queueAction(a.dedupeKey, { approvalId: a.approvalId, decision: a.decision });
        return { text };
      });
    } catch (err) {
      // Not confirmed to the platform, which hands the press over again.
      ctx.storage.failed(err, 'storing a button press');
      throw err;
    }
    ctx.storage.succeeded();
    // A redelivered press was taken the first time; this only stops the button's spinner.
    if ('duplicate' in outcome) return answer('');
    if (outcome.text !== undefined) return answer(outcome.text);
    this.waiting.set(a.dedupeKey, {
      answer,
      timer: setTimeout(() => {
        this.waiting.delete(a.dedupeKey);
        answer(PRESS_RECEIVED_TEXT);
      }, ctx.timing.pressAnswerMs).unref(),
    });
    this.wakeInbox();
  }

  /** The answer of a press the bridge can judge without the runtime; undefined when the runtime must decide it. */
  private judge(a: InboundAction, conversation: string, now: number): string | undefined {
    const { ctx } = this;
    const role = ctx.roleOf(a.sender.id);
    if (role === undefined) return 'You are not allowed to decide this.';
    // The presser's role is not enough: a button in a group that was revoked since must not decide anything.
    if (!mayUseAgent(a.conversation.kind, { senderRole: role, chatAllowed: ctx.chatAllowed(a.conversation.chatId) })) {
      ctx.logger.info('button press refused: this chat is no longer allowed', { conversation, sender: a.sender.id, approval: a.approvalId });
      return CHAT_NOT_ALLOWED_TEXT;
    }
    if (a.approvalId.startsWith(REQUEST_APPROVAL_PREFIX)) {
      if (role !== 'owner') return 'Only an owner can decide access requests.';
      const request = openRequestById(ctx.store, a.approvalId.slice(REQUEST_APPROVAL_PREFIX.length), now);
      if (!request || !decideAccessRequest(ctx.store, request, a.decision, `${ctx.adapter.platform}:${a.sender.id}`, now)) return 'Already decided (or expired).';
      ctx.logger.info('access request decided in chat', { decision: a.decision, requester: request.requesterId, owner: a.sender.id });
      return a.decision === 'approve' ? 'Approved.' : 'Denied.';
    }
    const approval = ctx.store.approval(a.approvalId);
    if (!approval || approval.conversation !== conversation) return 'This approval belongs to another conversation.';
    if (approval.status === 'decided' || approval.status === 'expired') return pressAnswer(approval.status === 'decided' ? 'already_decided' : 'expired', approval);
    // Pressing again while the first press waits for the runtime adds nothing (and no second result in chat).
    if (ctx.store.hasPendingAction(a.approvalId)) return 'Already received: it is decided as soon as the agent answers.';
    return undefined;
  }

  /**
   * Decides a queued press, in its conversation's order (the inbox's poster calls this). Throws
   * what the runtime client throws; the poster retries a RuntimeUnavailableError later.
   */
  async decide(row: InboxRow, action: InboxAction): Promise<void> {
    const { ctx } = this;
    const approval = ctx.store.approval(action.approvalId);
    const outcome = approval ? await decideRuntimeApproval(ctx, approval, action.decision) : 'already_decided';
    ctx.logger.info('button press decided', { conversation: row.conversation, approval: action.approvalId, outcome });
    // Read again: an expiry found by the runtime's answer may have closed the row meanwhile.
    const current = ctx.store.approval(action.approvalId) ?? approval;
    this.settle(row, pressAnswer(outcome, current), decisionText(outcome, current));
  }

  /**
   * Finishes a queued press: its presser gets `answer` if still waiting, else the chat gets `chatText`
   * (none: tell nobody, e.g. the chat is no longer allowed). The answer goes out after the commit.
   */
  settle(row: InboxRow, answer: string, chatText: string | undefined): void {
    const { ctx } = this;
    const waiting = this.waiting.get(row.dedupeKey);
    ctx.store.transaction(() => {
      ctx.store.finishInbound(row.id, {});
      if (!waiting && chatText !== undefined) ctx.reply(row.ref, chatText);
    });
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.waiting.delete(row.dedupeKey);
    waiting.answer(answer);
  }
}
