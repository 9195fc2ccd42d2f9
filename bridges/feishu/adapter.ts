// The Feishu/Lark ChatAdapter: the long connection in, the REST client out; plain text, threads, approval cards, a reaction for typing.
import { createHash } from 'node:crypto';
import type { FeishuConfig } from '../../lib/config.js';
import { TetherError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { DeliveryError, conversationKey, type ChatAdapter, type ConversationRef, type InboundHandlers, type SendLimits } from '../core/adapter.js';
import { createFeishuApi, type BotInfo, type FeishuApi, type ReceiveIdType } from './api.js';
import { CARD_BODY_MAX_BYTES, approvalCard, cardBodyBytes, decidedCard } from './approval-card.js';
import { FeishuConnection, type ConnectionTiming } from './connection.js';
import { CREDENTIAL_CODES, CREDENTIALS_FIX, FeishuApiError, REPLY_TARGET_GONE_CODES, classifyFeishuFailure } from './failures.js';
import { interpretCardAction, interpretMessageEvent } from './inbound.js';
import { createRestClient, lark } from './sdk.js';

/**
 * Feishu allows 5 messages a second into one user or group (shared by every bot in a group) and
 * 50 a second per app (notes §4.1). As buckets (any window of T holds at most burst + rate × T):
 * per chat a burst of 2 at 2/s, so the typing reaction and the reply go at once (the core keeps a
 * token for the reply: with a burst of 1 every reply would wait for the reaction's token) and any
 * second holds at most 4 budgeted calls plus the reaction's removal; the app at 45/s with a burst
 * of 5 stays at 50.
 */
export const FEISHU_LIMITS: SendLimits = {
  privateIntervalMs: 500,
  privateBurst: 2,
  groupPerMinute: 120,
  groupBurst: 2,
  globalPerSecond: 45,
  globalBurst: 5,
  maxInFlight: 6,
};

/**
 * Code points per message. A text body may be 150 KB (230025 past it); the text is JSON inside
 * JSON, so one code point costs at most 7 bytes (a control character: \\u0001 escaped twice).
 * 20,000 × 7 = 140,000 bytes leaves room for the rest of the body whatever the text holds.
 */
export const FEISHU_TEXT_LIMIT = 20_000;

/** The reaction that stands for "typing…" (bots have no typing indicator). */
export const TYPING_EMOJI = 'Typing';
/**
 * How long a card press waits for the core's answer (its toast) before it is acked without one. The
 * core answers within its pressAnswerMs (2 s: "received" when the runtime is slow); Feishu wants the
 * ack within 3 s.
 */
const ACTION_ANSWER_WAIT_MS = 2_300;
/** Start: a network failure (Feishu unreachable) is retried this often at most. */
const IDENTIFY_RETRY_MAX_MS = 30_000;

/** Feishu refused the app's credentials, or answered the bot info with an error: the bridge cannot start. */
export class FeishuStartError extends TetherError {
  constructor(code: number | undefined, detail: string, fix: string) {
    super('feishu_refused', `Feishu refused the app (${code !== undefined ? `code ${code}` : 'no code'}: ${detail})`, fix);
  }
}

/** What to fix for a code answered at start; one row per code seen there. */
const START_FIXES: Record<number, string> = {
  10003: CREDENTIALS_FIX,
  10014: CREDENTIALS_FIX,
  99991672: 'add the scopes docs/feishu.md lists (Permissions & Scopes) and publish a new version of the app',
  230006: 'enable the Bot feature (Add Features → Bot) and publish a new version of the app',
};

/** The send's `uuid`: the same key and text always give the same one (a retry posts nothing twice), within Feishu's 50 characters. */
export function sendUuid(key: string, content: string): string {
  return createHash('sha256').update(key).update('\0').update(content).digest('hex').slice(0, 32);
}

/** How a receive id is named to the create call: a chat (`oc_…`) or a person (`ou_…`, an owner who never opened the bot). */
function receiveIdType(chatId: string): ReceiveIdType {
  return chatId.startsWith('ou_') ? 'open_id' : 'chat_id';
}

export interface FeishuAdapterOptions {
  connection?: Partial<ConnectionTiming>;
  /** Tests: REST timeout. */
  restTimeoutMs?: number;
}

export interface FeishuAdapter extends ChatAdapter {
  readonly api: FeishuApi;
  /** `/bot/v3/info`: the bot's open id (mentions are matched by it). Retries while Feishu cannot be reached; refused credentials throw FeishuStartError. */
  identify(): Promise<BotInfo>;
}

interface ReplyTarget {
  /** The person's message the next reply quotes. */
  messageId: string;
  /** The typing reaction put on it, once there is one. */
  reactionId?: string;
  reacting?: Promise<void>;
}

export function createFeishuAdapter(config: FeishuConfig, logger: Logger, options: FeishuAdapterOptions = {}): FeishuAdapter {
  const log = logger.child('feishu');
  const rest = createRestClient({ appId: config.appId, appSecret: config.appSecret, domain: config.domain, logger: log.child('sdk'), ...(options.restTimeoutMs ? { timeoutMs: options.restTimeoutMs } : {}) });
  const api = createFeishuApi(rest, log);
  let bot: BotInfo | undefined;
  let connection: FeishuConnection | undefined;
  /**
   * Conversation → the person's latest message, which the reply quotes and which carries the typing
   * reaction. In memory: after a restart the reply goes as a plain message (in a thread, still into
   * the thread) and a reaction left on the message stays.
   */
  const replyTargets = new Map<string, ReplyTarget>();
  /** Card message id → who pressed the button that decided it (for the decided card). */
  const decidedBy = new Map<string, string>();

  async function identify(): Promise<BotInfo> {
    for (let attempt = 0; ; attempt++) {
      try {
        bot = await api.botInfo();
        return bot;
      } catch (err) {
        const e = err instanceof FeishuApiError ? err : new FeishuApiError('bot.info', undefined, undefined, String(err));
        const failure = classifyFeishuFailure(e);
        if (failure.kind !== 'transient' && failure.kind !== 'retry_after') {
          const fix = (e.feishuCode !== undefined ? START_FIXES[e.feishuCode] : undefined) ?? (CREDENTIAL_CODES.has(e.feishuCode ?? -1) ? CREDENTIALS_FIX : 'check FEISHU_APP_ID, FEISHU_APP_SECRET and FEISHU_DOMAIN; see docs/feishu.md troubleshooting');
          throw new FeishuStartError(e.feishuCode, e.detail, fix);
        }
        const wait = Math.min(IDENTIFY_RETRY_MAX_MS, 500 * 2 ** Math.min(attempt, 6));
        log.warn('cannot reach Feishu yet; trying again', { domain: config.domain, error: e.message, in_ms: wait });
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  function deliveryError(err: unknown, call: string): DeliveryError {
    const e = err instanceof FeishuApiError ? err : new FeishuApiError(call, undefined, undefined, String(err));
    return new DeliveryError(classifyFeishuFailure(e), e.message);
  }

  /**
   * Into the conversation: a reply to `target` when there is one (in the thread for a thread), else a
   * new message in the chat. A recalled or deleted target falls back to the thread's first message,
   * or to a plain message in the chat, never elsewhere.
   */
  async function post(to: ConversationRef, msgType: string, content: string, uuid: string, target: string | undefined): Promise<string> {
    const inThread = to.topicId !== undefined;
    const targets = [...new Set([target, to.topicId].filter((t): t is string => t !== undefined))];
    for (const messageId of targets) {
      try {
        return await api.reply(messageId, msgType, content, inThread, uuid);
      } catch (err) {
        if (!(err instanceof FeishuApiError && err.feishuCode !== undefined && REPLY_TARGET_GONE_CODES.has(err.feishuCode))) throw err;
        log.info('the message a reply quotes is gone; sending without it', { conversation: conversationKey(to), code: err.feishuCode });
      }
    }
    // A thread whose first message is gone cannot be written into: the conversation is over.
    if (inThread) throw new FeishuApiError('message.reply', 230011, 400, 'the thread\'s first message was recalled or deleted');
    return api.create(receiveIdType(to.chatId), to.chatId, msgType, content, uuid);
  }

  /** The typing reaction comes off once the reply is there; best effort (a reaction left behind is harmless). */
  function clearTyping(target: ReplyTarget): void {
    void (async () => {
      await target.reacting;
      if (!target.reactionId) return;
      await api.removeReaction(target.messageId, target.reactionId).catch((err: unknown) => log.debug('typing reaction not removed', { error: err instanceof Error ? err.message : String(err) }));
    })();
  }

  const dispatcher = (handlers: InboundHandlers) =>
    new lark.EventDispatcher({ loggerLevel: lark.LoggerLevel.warn }).register({
      // Validates, hands the message to the core (which commits it) and returns: the ack leaves in milliseconds, whatever the runtime does.
      'im.message.receive_v1': async (data: unknown) => {
        const inbound = interpretMessageEvent(data, bot!);
        if (inbound.kind === 'ignored') return void log.debug('event ignored', { reason: inbound.reason });
        const m = inbound.message;
        await handlers.onMessage(m);
        if (m.addressed && m.messageId !== undefined) {
          const key = conversationKey(m.conversation);
          // A redelivery of the message being answered keeps its reaction.
          if (replyTargets.get(key)?.messageId !== m.messageId) replyTargets.set(key, { messageId: m.messageId });
        }
      },
      'card.action.trigger': async (data: unknown) => {
        const press = interpretCardAction(data);
        if (press.kind === 'ignored') {
          log.debug('card action ignored', { reason: press.reason });
          return { toast: { type: 'info', content: 'This button is no longer active.' } };
        }
        const decided = press.value.decision === 'approve' ? 'Approved.' : 'Denied.';
        let answered!: (text: string) => void;
        const answer = new Promise<string>((resolve) => (answered = resolve));
        // Resolves once the press is on disk; the core answers it (at once, or once the runtime decided) through `answer`.
        await handlers.onAction({
          dedupeKey: press.dedupeKey,
          conversation: press.conversation,
          sender: press.sender,
          approvalId: press.value.id,
          decision: press.value.decision,
          answer: async (text) => {
            if (text === decided && press.cardMessageId) decidedBy.set(press.cardMessageId, press.sender.id);
            answered(text);
          },
        });
        let timer: NodeJS.Timeout | undefined;
        const text = await Promise.race([answer, new Promise<string>((r) => (timer = setTimeout(() => r(''), ACTION_ANSWER_WAIT_MS)))]);
        clearTimeout(timer);
        return text ? { toast: { type: text === decided ? 'success' : 'info', content: text } } : undefined;
      },
    } as never);

  const adapter: FeishuAdapter = {
    platform: 'feishu',
    textLimit: FEISHU_TEXT_LIMIT,
    limits: FEISHU_LIMITS,
    api,
    identify,

    async start(handlers) {
      if (!bot) await identify();
      connection = new FeishuConnection({ appId: config.appId, appSecret: config.appSecret, domain: config.domain, dispatcher: dispatcher(handlers), logger: log, ...(options.connection ? { timing: options.connection } : {}) });
      connection.start();
      log.info('Feishu bridge receiving', { bot: bot!.name, open_id: bot!.openId, domain: config.domain });
    },

    async stop() {
      connection?.stop();
      connection = undefined;
    },

    async send(to, text, key) {
      const content = JSON.stringify({ text });
      const conversation = conversationKey(to);
      const target = replyTargets.get(conversation);
      try {
        const messageId = await post(to, 'text', content, sendUuid(key, content), target?.messageId);
        // Only the first message after the person's quotes it; a later chunk follows it plainly.
        if (target && replyTargets.get(conversation) === target) {
          replyTargets.delete(conversation);
          clearTyping(target);
        }
        return { messageId };
      } catch (err) {
        const e = deliveryError(err, 'send');
        log.debug('send failed', { key, failure: e.failure.kind, error: e.message });
        throw e;
      }
    },

    async typing(to) {
      const target = replyTargets.get(conversationKey(to));
      // One reaction per message for the whole turn: every later call costs nothing.
      if (!target || target.reacting) return;
      target.reacting = (async () => {
        try {
          target.reactionId = await api.addReaction(target.messageId, TYPING_EMOJI);
        } catch (err) {
          const e = deliveryError(err, 'reaction.create');
          target.reacting = undefined;
          if (e.failure.kind === 'retry_after') throw e;
          log.debug('typing reaction not added', { error: e.message });
        }
      })();
      await target.reacting;
    },

    async askApproval(to, prompt, key) {
      const content = approvalCard(prompt, to);
      const uuid = sendUuid(key, content);
      // Never a cut command beside live buttons: the core lays a prompt that is too long out again.
      if (cardBodyBytes(content, uuid) > CARD_BODY_MAX_BYTES) throw new DeliveryError({ kind: 'too_long' }, 'approval card over Feishu\'s 30 KB');
      try {
        return { messageId: await post(to, 'interactive', content, uuid, undefined) };
      } catch (err) {
        throw deliveryError(err, 'askApproval');
      }
    },

    async markApprovalDecided(_to, sent, text) {
      const by = decidedBy.get(sent.messageId);
      decidedBy.delete(sent.messageId);
      try {
        await api.patchCard(sent.messageId, decidedCard(text, by));
      } catch (err) {
        log.warn('could not mark an approval card decided', { error: err instanceof Error ? err.message : String(err) });
      }
    },

    health() {
      return { ...(connection?.health() ?? { state: 'stopped' }), ...(bot ? { bot: bot.name, open_id: bot.openId } : {}), calls: { ...api.counts } };
    },
  };
  return adapter;
}
