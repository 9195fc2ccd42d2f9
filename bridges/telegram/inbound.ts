// Telegram updates → what the core understands: messages, approval button presses, moved conversations.
import type { Chat, Message, MessageEntity, Update } from 'grammy/types';
import type { ConversationRef, InboundMessage, Sender } from '../core/adapter.js';
import { parseApprovalData } from './approval-buttons.js';

export interface BotIdentity {
  id: number;
  username: string;
}

/** What one update means for the bridge; `ignored` says why, for debug logs. */
export type TelegramInbound =
  | { kind: 'message'; message: InboundMessage; forum: boolean; /** Telegram's media_group_id: the parts of one album share it. */ album?: string }
  | {
      kind: 'action';
      dedupeKey: string;
      callbackQueryId: string;
      conversation: ConversationRef;
      sender: Sender;
      approvalId: string;
      decision: 'approve' | 'deny';
    }
  | { kind: 'unknown_button'; callbackQueryId: string }
  | { kind: 'moved'; from: ConversationRef; to: ConversationRef }
  | { kind: 'blocked'; chatId: string; status: string }
  | { kind: 'ignored'; reason: string };

/** The update kinds the bridge asks for; edits are left out on purpose (re-running an edited prompt would double a turn). */
export const ALLOWED_UPDATES = ['message', 'callback_query', 'my_chat_member'] as const;

export function dedupeKeyOf(botId: number, updateId: number): string {
  return `${botId}:${updateId}`;
}

function conversationOf(chat: Pick<Chat, 'id' | 'type'>, message: Pick<Message, 'is_topic_message' | 'message_thread_id'> | undefined): ConversationRef | undefined {
  if (chat.type === 'channel') return undefined;
  const ref: ConversationRef = { platform: 'telegram', chatId: String(chat.id), kind: chat.type === 'private' ? 'private' : 'group' };
  // Only a real topic has is_topic_message; a reply thread's message_thread_id in General must not split the chat.
  if (message?.is_topic_message === true && message.message_thread_id !== undefined) ref.topicId = String(message.message_thread_id);
  return ref;
}

function senderOf(from: { id: number; first_name: string; last_name?: string; username?: string }): Sender {
  const name = [from.first_name, from.last_name].filter(Boolean).join(' ') || from.username;
  return { id: String(from.id), ...(name ? { name } : {}) };
}

function entityText(text: string, e: MessageEntity): string {
  return text.slice(e.offset, e.offset + e.length);
}

interface Addressing {
  addressed: boolean;
  /** The text with the bot's @mention (or /cmd@bot suffix) removed. */
  text: string;
  /** It starts with a command for another bot (/cmd@other_bot): never ours, whatever else it does. */
  otherBotCommand: boolean;
}

/**
 * Whether a group message is meant for this bot, and its text without the mention.
 * Addressed: an @mention or text_mention of the bot, a reply to one of its messages, or a /command
 * (bare or /cmd@thisbot). /cmd@otherbot belongs to another bot even in a reply to ours: that bot
 * must not see its command run here too.
 */
export function addressingOf(message: Pick<Message, 'text' | 'caption' | 'entities' | 'caption_entities' | 'reply_to_message' | 'message_thread_id'>, bot: BotIdentity): Addressing {
  const text = message.text ?? message.caption ?? '';
  const entities = message.entities ?? message.caption_entities ?? [];
  const me = `@${bot.username}`.toLowerCase();
  const cuts: { offset: number; length: number; replacement: string }[] = [];
  let addressed = false;
  let otherBotCommand = false;

  for (const e of entities) {
    if (e.type === 'mention' && entityText(text, e).toLowerCase() === me) {
      addressed = true;
      cuts.push({ offset: e.offset, length: e.length, replacement: '' });
    } else if (e.type === 'text_mention' && e.user?.id === bot.id) {
      addressed = true;
      cuts.push({ offset: e.offset, length: e.length, replacement: '' });
    } else if (e.type === 'bot_command' && e.offset === 0) {
      const command = entityText(text, e);
      const at = command.indexOf('@');
      if (at === -1) addressed = true;
      else if (command.slice(at).toLowerCase() === me) {
        addressed = true;
        cuts.push({ offset: e.offset, length: e.length, replacement: command.slice(0, at) });
      } else otherBotCommand = true;
    }
  }

  const reply = message.reply_to_message;
  // In a topic every message "replies" to the topic's creation message; that is not a reply to the bot.
  const implicitTopicReply = reply !== undefined && (reply.forum_topic_created !== undefined || reply.message_id === message.message_thread_id);
  if (reply?.from?.id === bot.id && !implicitTopicReply) addressed = true;
  if (otherBotCommand) addressed = false;

  let stripped = text;
  for (const c of [...cuts].sort((a, b) => b.offset - a.offset)) stripped = stripped.slice(0, c.offset) + c.replacement + stripped.slice(c.offset + c.length);
  stripped = cuts.length ? stripped.replace(/[ \t]{2,}/g, ' ').replace(/^[ \t,:]+/, '').trim() : stripped.trim();
  return { addressed, text: stripped, otherBotCommand };
}

/**
 * What a message without text or caption holds, as a phrase for a person; checked in order, since an
 * animation also carries `document` and a venue `location`. Service messages (members joined, title
 * changed, pinned…) are none of these and stay ignored.
 */
const CONTENT_KINDS: ReadonlyArray<readonly [keyof Message, string]> = [
  ['photo', 'a photo'],
  ['live_photo', 'a photo'],
  ['sticker', 'a sticker'],
  ['voice', 'a voice message'],
  ['video_note', 'a video message'],
  ['animation', 'a GIF'],
  ['video', 'a video'],
  ['audio', 'an audio file'],
  ['document', 'a file'],
  ['paid_media', 'paid media'],
  ['venue', 'a venue'],
  ['location', 'a location'],
  ['contact', 'a contact'],
  ['poll', 'a poll'],
  ['checklist', 'a checklist'],
  ['dice', 'a dice roll'],
  ['game', 'a game'],
  ['story', 'a story'],
  ['invoice', 'an invoice'],
  ['rich_message', 'a formatted message'],
];

/** The phrase for a message's non-text content, or undefined (a service message). */
export function unsupportedContentOf(message: Partial<Message>): string | undefined {
  return CONTENT_KINDS.find(([field]) => message[field] !== undefined)?.[1];
}

function interpretMessage(updateId: number, message: Message, bot: BotIdentity): TelegramInbound {
  const conversation = conversationOf(message.chat, message);
  if (!conversation) return { kind: 'ignored', reason: 'channel post' };
  if (message.migrate_to_chat_id !== undefined) {
    return { kind: 'moved', from: { ...conversation, kind: 'group' }, to: { platform: 'telegram', chatId: String(message.migrate_to_chat_id), kind: 'group' } };
  }
  if (message.migrate_from_chat_id !== undefined) {
    return { kind: 'moved', from: { platform: 'telegram', chatId: String(message.migrate_from_chat_id), kind: 'group' }, to: { ...conversation, kind: 'group' } };
  }
  if (!message.from) return { kind: 'ignored', reason: 'no sender' };
  if (message.from.is_bot) return { kind: 'ignored', reason: 'sent by a bot' };
  const rawText = message.text ?? message.caption;
  const unsupported = rawText === undefined ? unsupportedContentOf(message) : undefined;
  if (rawText === undefined && unsupported === undefined) return { kind: 'ignored', reason: 'no text' };
  // Media without a caption is still addressed by a reply to the bot, so groups answer only what was meant for it.
  // A private chat is always addressed, but /cmd@this_bot is still made /cmd there, as the core expects.
  const addressing = addressingOf(message, bot);
  if (addressing.otherBotCommand) return { kind: 'ignored', reason: 'a command for another bot' };
  const addressed = conversation.kind === 'private' || addressing.addressed;
  const text = withCoreCommands(addressing.text);
  return {
    kind: 'message',
    forum: message.chat.type === 'supergroup' && message.chat.is_forum === true,
    ...(message.media_group_id !== undefined ? { album: message.media_group_id } : {}),
    message: {
      dedupeKey: dedupeKeyOf(bot.id, updateId),
      conversation,
      sender: senderOf(message.from),
      text,
      addressed,
      messageId: String(message.message_id),
      sentAt: message.date * 1000,
      ...(unsupported !== undefined ? { unsupported } : {}),
    },
  };
}

/**
 * Telegram sends /start (with an optional deep-link payload) when a person first opens the bot:
 * the core knows no such command, so it is asked for /help, which greets with what the bot can do.
 */
export function withCoreCommands(text: string): string {
  return /^\/start(?:\s|$)/i.test(text) ? '/help' : text;
}

export function interpretUpdate(update: Update, bot: BotIdentity): TelegramInbound {
  if (update.message) return interpretMessage(update.update_id, update.message, bot);
  const cb = update.callback_query;
  if (cb) {
    if (cb.from.is_bot) return { kind: 'ignored', reason: 'button pressed by a bot' };
    const parsed = parseApprovalData(cb.data);
    const chat = cb.message?.chat;
    const conversation = chat ? conversationOf(chat, cb.message && 'is_topic_message' in cb.message ? cb.message : undefined) : undefined;
    if (!parsed || !conversation) return { kind: 'unknown_button', callbackQueryId: cb.id };
    return {
      kind: 'action',
      dedupeKey: dedupeKeyOf(bot.id, update.update_id),
      callbackQueryId: cb.id,
      conversation,
      sender: senderOf(cb.from),
      approvalId: parsed.approvalId,
      decision: parsed.decision,
    };
  }
  const member = update.my_chat_member;
  if (member) return { kind: 'blocked', chatId: String(member.chat.id), status: member.new_chat_member.status };
  return { kind: 'ignored', reason: `update kind ${Object.keys(update).filter((k) => k !== 'update_id').join(',') || 'empty'}` };
}
