// Feishu events → what the core understands: messages (p2p, groups, threads, mentions) and approval button presses.
import type { ConversationRef, InboundMessage, Sender } from '../core/adapter.js';
import { parseApprovalValue, type ApprovalButtonValue } from './approval-card.js';

export interface BotIdentity {
  openId: string;
}

export type FeishuInbound = { kind: 'message'; message: InboundMessage } | { kind: 'ignored'; reason: string };

export type FeishuAction =
  | { kind: 'action'; dedupeKey: string; conversation: ConversationRef; sender: Sender; cardMessageId: string; value: ApprovalButtonValue }
  | { kind: 'ignored'; reason: string };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

interface Mention {
  key: string;
  openId: string;
  name: string;
}

/** What a message without text holds, as a phrase for a person; one row per Feishu message_type. */
const UNSUPPORTED_TYPES: Record<string, string> = {
  image: 'an image',
  file: 'a file',
  audio: 'a voice message',
  media: 'a video',
  sticker: 'a sticker',
  share_chat: 'a shared group',
  share_user: 'a shared contact',
  location: 'a location',
  interactive: 'a card',
  merge_forward: 'forwarded messages',
  todo: 'a task',
  hongbao: 'a red packet',
  share_calendar_event: 'a calendar event',
  calendar: 'a calendar event',
  video_chat: 'a video call',
  vote: 'a poll',
  folder: 'a folder',
};

/** Message types that are not a person talking (members joined, a chat renamed…): never answered. */
const SERVICE_TYPES = new Set(['system']);

function mentionsOf(message: Json): Mention[] {
  const list = Array.isArray(message.mentions) ? message.mentions : [];
  return list.filter(isObject).map((m) => ({ key: str(m.key), openId: str(isObject(m.id) ? m.id.open_id : undefined), name: str(m.name) }));
}

interface Reading {
  text: string;
  mentionsBot: boolean;
}

/** Text content: `@_user_N` placeholders; the bot's is removed, the others become @Name (notes §5). */
function readText(content: Json, mentions: Mention[], bot: BotIdentity): Reading {
  let text = str(content.text);
  let mentionsBot = false;
  // Longest keys first: @_user_1 must not eat the start of @_user_10.
  for (const m of [...mentions].sort((a, b) => b.key.length - a.key.length)) {
    if (!m.key) continue;
    const isBot = m.openId === bot.openId;
    if (isBot && text.includes(m.key)) mentionsBot = true;
    text = text.split(m.key).join(isBot ? '' : `@${m.name}`);
  }
  return { text: tidy(text), mentionsBot };
}

/** Post content (rich text): lines of elements; mentions live in `at` elements, sometimes with an empty `mentions` list. */
function readPost(content: Json, mentions: Mention[], bot: BotIdentity): Reading {
  // A received post is {title, content}; one sent through some clients is keyed by locale.
  const post = Array.isArray(content.content) ? content : (Object.values(content).find((v) => isObject(v) && Array.isArray(v.content)) as Json | undefined) ?? {};
  let mentionsBot = false;
  const lines = (Array.isArray(post.content) ? post.content : []).map((line: unknown) => {
    let leadingMention = false;
    const text = (Array.isArray(line) ? line : [])
      .filter(isObject)
      .map((el, i) => {
        if (el.tag === 'at') {
          const raw = str(el.user_id);
          const m = mentions.find((x) => x.key === raw);
          const openId = m?.openId ?? raw;
          if (openId === bot.openId) {
            mentionsBot = true;
            leadingMention ||= i === 0;
            return '';
          }
          return `@${str(el.user_name) || m?.name || raw}`;
        }
        if (el.tag === 'text' || el.tag === 'a' || el.tag === 'md' || el.tag === 'code_block') return str(el.text);
        if (el.tag === 'emotion') return `:${str(el.emoji_type)}:`;
        return '';
      })
      .join('');
    // The space that followed a leading mention goes with it.
    return leadingMention ? text.replace(/^[ \t,:]+/, '') : text;
  });
  const title = str(post.title);
  return { text: tidy([...(title ? [title] : []), ...lines].join('\n')), mentionsBot };
}

/** Spaces left where a mention was, collapsed; the text trimmed. */
function tidy(text: string): string {
  return text.replace(/[ \t]{2,}/g, ' ').replace(/^[ \t,:]+/, '').trim();
}

/** `im.message.receive_v1` (flattened by the SDK's dispatcher) → a message for the core, or why not. */
export function interpretMessageEvent(data: unknown, bot: BotIdentity): FeishuInbound {
  if (!isObject(data) || !isObject(data.message) || !isObject(data.sender)) return { kind: 'ignored', reason: 'malformed event' };
  const { message, sender } = data;
  const messageId = str(message.message_id);
  const chatId = str(message.chat_id);
  const senderId = str(isObject(sender.sender_id) ? sender.sender_id.open_id : undefined);
  const type = str(message.message_type);
  if (!messageId || !chatId || !type) return { kind: 'ignored', reason: 'message without id, chat or type' };
  // Other bots (and this one) never start turns: two bots answering each other would loop.
  if (str(sender.sender_type) !== 'user') return { kind: 'ignored', reason: `sent by ${str(sender.sender_type) || 'no one'}` };
  if (!senderId) return { kind: 'ignored', reason: 'no sender open id' };
  if (senderId === bot.openId) return { kind: 'ignored', reason: 'sent by this bot' };
  if (SERVICE_TYPES.has(type)) return { kind: 'ignored', reason: `a ${type} message` };

  const chatType = str(message.chat_type);
  const conversation: ConversationRef = { platform: 'feishu', chatId, kind: chatType === 'p2p' ? 'private' : 'group' };
  // A thread is its own conversation, named by its first message: a reply to that one stays in the thread.
  if (str(message.thread_id)) conversation.topicId = str(message.root_id) || messageId;

  let content: Json = {};
  try {
    const parsed: unknown = JSON.parse(str(message.content) || '{}');
    if (isObject(parsed)) content = parsed;
  } catch {
    return { kind: 'ignored', reason: 'content is not JSON' };
  }
  const mentions = mentionsOf(message);
  const reading = type === 'text' ? readText(content, mentions, bot) : type === 'post' ? readPost(content, mentions, bot) : undefined;
  // A post of images only has nothing to read either.
  const unsupported = reading === undefined ? (UNSUPPORTED_TYPES[type] ?? `a ${type} message`) : reading.text === '' && type === 'post' ? 'a post without text' : undefined;
  const mentionsBot = reading?.mentionsBot ?? mentions.some((m) => m.openId === bot.openId);
  const eventId = str(data.event_id);
  const sentAt = Number(str(message.create_time));
  return {
    kind: 'message',
    message: {
      dedupeKey: messageId,
      ...(eventId ? { otherDedupeKeys: [`event:${eventId}`] } : {}),
      conversation,
      sender: { id: senderId },
      text: unsupported === undefined ? (reading?.text ?? '') : '',
      // In groups only a message that mentions the bot is for it (the app's scope delivers little else).
      addressed: conversation.kind === 'private' || mentionsBot,
      messageId,
      sentAt: Number.isFinite(sentAt) && sentAt > 0 ? sentAt : Date.now(),
      ...(unsupported !== undefined ? { unsupported } : {}),
    },
  };
}

/** `card.action.trigger` → a press of one of our approval buttons, bound to the chat the card is in. */
export function interpretCardAction(data: unknown): FeishuAction {
  if (!isObject(data)) return { kind: 'ignored', reason: 'malformed event' };
  const operator = isObject(data.operator) ? data.operator : {};
  const context = isObject(data.context) ? data.context : {};
  const action = isObject(data.action) ? data.action : {};
  const openId = str(operator.open_id) || str(data.open_id);
  // Older callbacks put the ids at the top level.
  const chatId = str(context.open_chat_id) || str(data.open_chat_id);
  const cardMessageId = str(context.open_message_id) || str(data.open_message_id);
  const eventId = str(data.event_id);
  const value = parseApprovalValue(action.value);
  if (!value) return { kind: 'ignored', reason: 'not an approval button' };
  if (!openId || !chatId || !eventId) return { kind: 'ignored', reason: 'press without presser, chat or event id' };
  // The chat is the platform's word for where the card is; only the thread within it comes from the value.
  const conversation: ConversationRef = { platform: 'feishu', chatId, kind: value.kind, ...(value.topic !== undefined ? { topicId: value.topic } : {}) };
  return { kind: 'action', dedupeKey: `card:${eventId}`, conversation, sender: { id: openId }, cardMessageId, value };
}
