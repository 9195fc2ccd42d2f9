// The Telegram ChatAdapter: grammY's Api for calls, our own poller for updates, plain-text sends into the right topic.
import { Api, GrammyError, telegramFetch } from './grammy.js';
import type { BotCommand, Update, UserFromGetMe } from 'grammy/types';
import type { TelegramConfig } from '../../lib/config.js';
import { TetherError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { shownUrl } from '../../lib/shown-url.js';
import {
  DeliveryError,
  type ApprovalPrompt,
  type ChatAdapter,
  type ConversationRef,
  type InboundHandlers,
  type SendLimits,
  type SentRef,
} from '../core/adapter.js';
import { shortenText } from '../core/chunker.js';
import { CALLBACK_ANSWER_MAX, approvalKeyboard, approvalMessageText } from './approval-buttons.js';
import { classifyTelegramFailure, describeTelegramError } from './failures.js';
import { ALLOWED_UPDATES, interpretUpdate, type BotIdentity } from './inbound.js';
import { DEFAULT_POLLER_TIMING, TelegramPoller, type PollerTiming } from './polling.js';

/**
 * Telegram's FAQ: "avoid sending more than one message per second" in a chat ("we may allow short
 * bursts"), "no more than 20 messages per minute to the same group", "30 messages per second or
 * so" in all. As buckets (any window of T holds at most burst + rate × T):
 * - private chat: burst 3 at 1/s, so a 3-chunk reply goes at once, sustained at the FAQ's 1/s;
 * - group: burst 3 at 17/min, so no minute ever holds more than 3 + 17 = 20;
 * - bot: burst 4 at 20/s: a second holds at most 4 + 20 = 24 sends as the bridge times them, so
 *   they may arrive bunched by up to 300 ms (an event-loop stall under load, network jitter) and
 *   still stay under 30 in any second as Telegram counts them. 25/s was measured to arrive 31 in
 *   a second after a 160 ms stall with 200 chats replying at once (docs/BENCHMARKS.md);
 * - at most 6 sends in flight: a send that has to open a new connection first leaves only once
 *   the event loop gets to it, possibly after a stall, and lands bunched with later sends; a few
 *   warm keep-alive connections avoid that (and still carry 20/s at up to 300 ms a round trip).
 */
export const TELEGRAM_LIMITS: SendLimits = {
  privateIntervalMs: 1_000,
  privateBurst: 3,
  groupPerMinute: 17,
  groupBurst: 3,
  globalPerSecond: 20,
  globalBurst: 4,
  maxInFlight: 6,
};
export const TELEGRAM_TEXT_LIMIT = 4096;
/**
 * Methods whose 429 the core handles (sendMessage: the chat's budget is held and the row resent;
 * sendChatAction: typing is skipped until the hold ends) or that have their own backoff (getUpdates).
 * Every other method waits `retry_after` and repeats the same request, here.
 */
const RETRIED_ELSEWHERE = new Set(['getUpdates', 'sendMessage', 'sendChatAction']);
/** A flood wait longer than this is not waited out in place: the call fails and says so. */
const MAX_IN_PLACE_WAIT_S = 60;
const MAX_IN_PLACE_RETRIES = 3;
/** General is topic 1: sendMessage refuses it (omit the id), sendChatAction accepts it. */
const GENERAL_TOPIC = '1';

/** The bot token was refused, or the API root does not answer like Telegram. */
export class TelegramAuthError extends TetherError {
  constructor(detail: string) {
    super('telegram_unauthorized', `Telegram refused TELEGRAM_BOT_TOKEN (${detail})`, 'copy the token again from @BotFather (/mybots → API Token) into telegram.env');
  }
}

export interface TelegramAdapterOptions {
  /** Commands shown in Telegram's menu (setMyCommands at start). */
  commands?: readonly BotCommand[];
  timing?: Partial<PollerTiming>;
  /** Already fetched by the caller (tether telegram learns the bot id before starting). */
  botInfo?: UserFromGetMe;
  /** Called once if the token is refused while running; the bridge should stop. */
  onFatal?: (reason: string) => void;
}

export interface TelegramAdapter extends ChatAdapter {
  readonly api: Api;
  /** getMe, turning a 401 into one clear line naming TELEGRAM_BOT_TOKEN. */
  identify(): Promise<UserFromGetMe>;
}

function chatIdOf(to: ConversationRef): number | string {
  const n = Number(to.chatId);
  return Number.isSafeInteger(n) ? n : to.chatId;
}

/** message_thread_id for sends: only real topics, never General. */
function sendThread(to: ConversationRef): { message_thread_id?: number } {
  return to.topicId !== undefined && to.topicId !== GENERAL_TOPIC ? { message_thread_id: Number(to.topicId) } : {};
}

export function createTelegramAdapter(config: TelegramConfig, logger: Logger, options: TelegramAdapterOptions = {}): TelegramAdapter {
  const timing: PollerTiming = { ...DEFAULT_POLLER_TIMING, ...options.timing };
  // A half-open socket must not wedge a call for grammY's default 500 s; polls get their timeout plus slack.
  const api = new Api(config.botToken, { apiRoot: config.apiRoot, fetch: telegramFetch, timeoutSeconds: timing.pollTimeoutS + Math.ceil(timing.watchdogGraceMs / 1000) + 15 });
  const log = logger.child('bot-api');
  // Flood control on edits, button answers, the command menu…: wait what Telegram says, then the same request again.
  api.config.use(async (prev, method, payload, signal) => {
    for (let attempt = 0; ; attempt++) {
      const res = await prev(method, payload, signal);
      const wait = res.ok ? undefined : res.parameters?.retry_after;
      if (res.ok || RETRIED_ELSEWHERE.has(method) || wait === undefined || wait > MAX_IN_PLACE_WAIT_S || attempt >= MAX_IN_PLACE_RETRIES || signal?.aborted) return res;
      log.info('flood control: waiting before repeating the request', { method, seconds: wait });
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait * 1000);
        signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
    }
  });
  let botInfo = options.botInfo;
  let poller: TelegramPoller | undefined;
  // Learned from updates: typing in a forum's General needs message_thread_id 1.
  const forumChats = new Set<string>();
  const movedAlready = new Set<string>();
  // An album arrives as one message per photo: its uncaptioned parts earn one "text only" answer, not one each.
  const albumsSeen = new Set<string>();

  async function identify(): Promise<UserFromGetMe> {
    try {
      botInfo = await api.getMe();
      return botInfo;
    } catch (err) {
      if (err instanceof GrammyError && (err.error_code === 401 || err.error_code === 404)) throw new TelegramAuthError(`${err.error_code} ${err.description}`);
      throw new TetherError('telegram_unreachable', `cannot reach the Telegram Bot API at ${shownUrl(config.apiRoot)} (${describeTelegramError(err, 'getMe')})`, 'check the network, or TELEGRAM_API_ROOT');
    }
  }

  async function handleUpdate(update: Update, handlers: InboundHandlers, bot: BotIdentity): Promise<void> {
    const inbound = interpretUpdate(update, bot);
    switch (inbound.kind) {
      case 'message': {
        if (inbound.forum) forumChats.add(inbound.message.conversation.chatId);
        if (inbound.album !== undefined) {
          const album = `${inbound.message.conversation.chatId}:${inbound.album}`;
          if (albumsSeen.has(album) && inbound.message.unsupported !== undefined) {
            log.debug('album part without caption ignored', { update_id: update.update_id });
            return;
          }
          albumsSeen.add(album);
          if (albumsSeen.size > 1000) albumsSeen.delete(albumsSeen.values().next().value!);
        }
        await handlers.onMessage(inbound.message);
        return;
      }
      case 'action': {
        // Not awaited: under flood control the answer waits retry_after, and the poll must not wait with it.
        const answer = async (text: string) => {
          api.answerCallbackQuery(inbound.callbackQueryId, { text: shortenText(text, CALLBACK_ANSWER_MAX) }).catch((err: unknown) => {
            log.debug('answerCallbackQuery failed', { error: describeTelegramError(err, 'answerCallbackQuery') });
          });
        };
        // Resolves once the press is stored; the core answers it (within seconds) when it is decided.
        await handlers.onAction({
          dedupeKey: inbound.dedupeKey,
          conversation: inbound.conversation,
          sender: inbound.sender,
          approvalId: inbound.approvalId,
          decision: inbound.decision,
          answer,
        });
        return;
      }
      case 'unknown_button':
        void api.answerCallbackQuery(inbound.callbackQueryId, { text: 'This button is no longer active.' }).catch(() => undefined);
        return;
      case 'moved': {
        const key = `${inbound.from.chatId}->${inbound.to.chatId}`;
        if (movedAlready.has(key)) return;
        log.info('group moved to a supergroup', { from: inbound.from.chatId, to: inbound.to.chatId });
        await handlers.onConversationMoved?.(inbound.from, inbound.to);
        // Only once stored: a move the core could not store (a full disk) comes again and must be taken then.
        movedAlready.add(key);
        return;
      }
      case 'blocked':
        if (inbound.status === 'kicked' || inbound.status === 'left') log.info('the bot was blocked or removed', { chat: inbound.chatId, status: inbound.status });
        return;
      case 'ignored':
        log.debug('update ignored', { update_id: update.update_id, reason: inbound.reason });
        return;
    }
  }

  function deliveryError(err: unknown, to: ConversationRef, method: string): DeliveryError {
    const failure = classifyTelegramFailure(err, to);
    return new DeliveryError(failure, describeTelegramError(err, method));
  }

  const adapter: TelegramAdapter = {
    platform: 'telegram',
    textLimit: TELEGRAM_TEXT_LIMIT,
    limits: TELEGRAM_LIMITS,
    api,
    identify,

    async start(handlers) {
      const me = botInfo ?? (await identify());
      const bot: BotIdentity = { id: me.id, username: me.username };
      if (options.commands?.length) {
        try {
          await api.setMyCommands([...options.commands]);
        } catch (err) {
          log.warn('could not register the command menu (setMyCommands); commands still work', { error: describeTelegramError(err, 'setMyCommands') });
        }
      }
      poller = new TelegramPoller({
        api,
        logger: log,
        allowedUpdates: ALLOWED_UPDATES,
        timing,
        onUpdate: (update) => handleUpdate(update, handlers, bot),
        onFatal: (reason) => options.onFatal?.(reason),
      });
      poller.start();
      log.info('Telegram bridge receiving', { bot: `@${me.username}`, id: me.id });
    },

    async stop() {
      if (!poller) return;
      const p = poller;
      poller = undefined;
      const refused = p.health().state === 'fatal';
      await p.stop();
      const offset = p.confirmedOffset();
      if (offset !== undefined && !refused) {
        // Confirms what the core already stored, so a restart does not fetch it again (dedupe would catch it anyway).
        await api.getUpdates({ offset, limit: 1, timeout: 0 }).catch(() => undefined);
      }
    },

    async send(to, text, key) {
      try {
        const m = await api.sendMessage(chatIdOf(to), text, { ...sendThread(to), link_preview_options: { is_disabled: true } });
        return { messageId: String(m.message_id) };
      } catch (err) {
        const e = deliveryError(err, to, 'sendMessage');
        log.debug('send failed', { key, failure: e.failure.kind, error: e.message });
        throw e;
      }
    },

    async typing(to) {
      const thread = to.topicId ?? (forumChats.has(to.chatId) ? GENERAL_TOPIC : undefined);
      try {
        await api.sendChatAction(chatIdOf(to), 'typing', thread !== undefined ? { message_thread_id: Number(thread) } : {});
      } catch (err) {
        const e = deliveryError(err, to, 'sendChatAction');
        // Flood control: the core holds this chat's budget, so typing is skipped until the wait is over.
        if (e.failure.kind === 'retry_after') throw e;
        log.debug('typing failed', { error: e.message });
      }
    },

    async askApproval(to: ConversationRef, prompt: ApprovalPrompt, _key: string): Promise<SentRef> {
      const keyboard = approvalKeyboard(prompt.approvalId);
      const text = approvalMessageText(prompt, keyboard !== undefined);
      // Never a cut command beside live buttons: the core lays a prompt that is too long out again.
      if (text === undefined) throw new DeliveryError({ kind: 'too_long' }, `approval prompt over Telegram's ${TELEGRAM_TEXT_LIMIT} characters`);
      try {
        const m = await api.sendMessage(chatIdOf(to), text, {
          ...sendThread(to),
          ...(keyboard ? { reply_markup: keyboard } : {}),
          link_preview_options: { is_disabled: true },
        });
        return { messageId: String(m.message_id) };
      } catch (err) {
        throw deliveryError(err, to, 'sendMessage');
      }
    },

    async markApprovalDecided(to, sent, text) {
      try {
        // No reply_markup: the buttons go away with the edit.
        await api.editMessageText(chatIdOf(to), Number(sent.messageId), text, { link_preview_options: { is_disabled: true } });
      } catch (err) {
        if (err instanceof GrammyError && err.description.includes('message is not modified')) return;
        log.warn('could not mark an approval prompt decided', { error: describeTelegramError(err, 'editMessageText') });
        // Still flooded after waiting in place: another edit now would only be refused the same way.
        if (err instanceof GrammyError && err.error_code === 429) return;
        await api.editMessageReplyMarkup(chatIdOf(to), Number(sent.messageId)).catch(() => undefined);
      }
    },

    health() {
      return { ...(poller?.health() ?? { state: 'stopped' }), ...(botInfo ? { bot: `@${botInfo.username}` } : {}) };
    },
  };
  return adapter;
}
