// A fake Telegram Bot API on 127.0.0.1: real long polling, exact error envelopes, forum rules and fault injection.
//
// It speaks `/bot<token>/<method>` with JSON, urlencoded or multipart bodies, as grammY sends them, so the
// real grammY client and the real adapter run against it unchanged. Texts of errors are the Bot API's own
// (see /work/shared/notes/telegram.md §1); tests can rely on them matching production.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitForChange } from './wait-for-change.js';

/** The Bot API's exact error texts, so tests and fault injections use the production wording. */
export const TELEGRAM_ERRORS = {
  unauthorized: 'Unauthorized',
  methodNotFound: 'Not Found: method not found',
  pollConflict: 'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
  webhookActive: "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
  terminatedBySetWebhook: 'Conflict: terminated by setWebhook request',
  tooManyRequests: (seconds: number) => `Too Many Requests: retry after ${seconds}`,
  chatNotFound: 'Bad Request: chat not found',
  textEmpty: 'Bad Request: message text is empty',
  textTooLongRaw: 'Bad Request: text is too long',
  messageTooLong: 'Bad Request: message is too long',
  threadNotFound: 'Bad Request: message thread not found',
  topicClosed: 'Bad Request: TOPIC_CLOSED',
  topicDeleted: 'Bad Request: TOPIC_DELETED',
  topicNotModified: 'Bad Request: TOPIC_NOT_MODIFIED',
  replyNotFound: 'Bad Request: message to be replied not found',
  blocked: 'Forbidden: bot was blocked by the user',
  deactivated: 'Forbidden: user is deactivated',
  migrated: 'Bad Request: group chat was upgraded to a supergroup chat',
  notModified:
    'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
  editNotFound: 'Bad Request: message to edit not found',
  cantEdit: "Bad Request: message can't be edited",
  deleteNotFound: 'Bad Request: message to delete not found',
  queryInvalid: 'Bad Request: query is too old and response timeout expired or query ID is invalid',
  commandInvalid: 'Bad Request: BOT_COMMAND_INVALID',
  notEnoughRights: 'Bad Request: not enough rights to manage topics',
  internal: 'Internal Server Error: restart',
} as const;

/** The General topic of a forum: omitted on incoming messages and refused by sendMessage. */
export const GENERAL_TOPIC_ID = 1;

export interface FakeUser {
  id: number;
  first_name: string;
  username?: string;
  is_bot?: boolean;
}

export type FakeChatType = 'private' | 'group' | 'supergroup';

export interface FakeChat {
  id: number;
  type: FakeChatType;
  title?: string;
  first_name?: string;
  username?: string;
  is_forum?: true;
}

export interface FakeEntity {
  type: string;
  offset: number;
  length: number;
  user?: FakeUser;
}

/** What a message holds besides text, as the Bot API puts it (file ids and sizes are the test's to make up). */
export interface FakeMedia {
  photo?: Array<{ file_id: string; file_unique_id: string; width: number; height: number }>;
  sticker?: { file_id: string; file_unique_id: string; type: 'regular'; width: number; height: number; is_animated: boolean; is_video: boolean; emoji?: string };
  voice?: { file_id: string; file_unique_id: string; duration: number };
  document?: { file_id: string; file_unique_id: string; file_name?: string };
  location?: { latitude: number; longitude: number };
  /** Shared by the parts of one album (each part is its own message). */
  media_group_id?: string;
  caption?: string;
}

/** A message as the fake stores it (user or bot), after any edits. */
export interface FakeMessage extends Omit<FakeMedia, 'caption'> {
  message_id: number;
  chat: FakeChat;
  from: FakeUser;
  date: number;
  text?: string;
  entities?: FakeEntity[];
  caption?: string;
  caption_entities?: FakeEntity[];
  /** Set only for real topics (never General), exactly as the Bot API does. */
  message_thread_id?: number;
  is_topic_message?: true;
  reply_to_message?: FakeMessage;
  reply_markup?: unknown;
  forum_topic_created?: { name: string; icon_color: number };
  migrate_to_chat_id?: number;
  migrate_from_chat_id?: number;
  edit_date?: number;
}

/** One bot message as a phone would see it, for assertions. */
export interface SentMessage {
  chatId: number;
  messageId: number;
  /** The topic id for messages in a real topic; undefined for the chat itself and a forum's General. */
  thread: number | undefined;
  text: string;
  replyMarkup: unknown;
  replyTo: number | undefined;
  deleted: boolean;
  /** Every text this message had, first to last (edits append). */
  history: string[];
}

export interface RecordedCall {
  method: string;
  params: Record<string, unknown>;
  at: number;
  /** What the fake answered: the result, or the error envelope. */
  ok: boolean;
  errorCode?: number;
  description?: string;
}

/** A fault served instead of the real answer, `times` times (default 1), to calls of `method` matching `when`. */
export interface Fault {
  method: string;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number; migrate_to_chat_id?: number };
  /** `destroy`: cut the socket without an answer; `hang`: never answer (until close). */
  network?: 'destroy' | 'hang';
  times?: number;
  when?: (params: Record<string, unknown>) => boolean;
}

export interface UserSendOptions {
  from?: FakeUser;
  /** A topic id in a forum (1 or undefined = General). */
  thread?: number;
  replyTo?: number;
  /** Overrides the entities the fake would detect (bot_command at the start, @mentions). */
  entities?: FakeEntity[];
}

export interface FakeTelegramOptions {
  token?: string;
  bot?: { id?: number; username?: string; first_name?: string };
  /** Cap on getUpdates `timeout`, in seconds (the real server caps at 50). */
  maxPollSeconds?: number;
}

interface Topic {
  id: number;
  name: string;
  closed: boolean;
  deleted: boolean;
  created: FakeMessage;
}

interface ChatState {
  chat: FakeChat;
  messages: Map<number, FakeMessage>;
  nextMessageId: number;
  topics: Map<number, Topic>;
  blocked: boolean;
  deactivated: boolean;
  migratedTo?: number;
  botCanManageTopics: boolean;
}

interface ParkedPoll {
  res: ServerResponse;
  offset: number | undefined;
  limit: number;
  timer: NodeJS.Timeout;
}

interface Update {
  update_id: number;
  [kind: string]: unknown;
}

class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: Fault['parameters'],
  ) {
    super(description);
  }
}

const now = () => Math.floor(Date.now() / 1000);
const codePoints = (s: string) => [...s].length;

// Form bodies carry objects as JSON strings (reply_markup, allowed_updates, …); JSON bodies carry them as-is.
const JSON_FIELDS = new Set(['reply_markup', 'allowed_updates', 'entities', 'reply_parameters', 'commands', 'link_preview_options', 'scope']);

function normaliseFormField(key: string, value: string): unknown {
  if (JSON_FIELDS.has(key)) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

function parseMultipart(body: string, boundary: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const part of body.split(`--${boundary}`)) {
    const m = /name="([^"]+)"[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n([\s\S]*)\r\n$/.exec(part);
    if (m) out[m[1]!] = normaliseFormField(m[1]!, m[2]!);
  }
  return out;
}

async function readParams(req: IncomingMessage, url: URL): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  const params: Record<string, unknown> = {};
  for (const [k, v] of url.searchParams) params[k] = normaliseFormField(k, v);
  const type = req.headers['content-type'] ?? '';
  if (body.length === 0) return params;
  if (type.includes('application/json')) return { ...params, ...(JSON.parse(body) as Record<string, unknown>) };
  if (type.includes('application/x-www-form-urlencoded')) {
    for (const [k, v] of new URLSearchParams(body)) params[k] = normaliseFormField(k, v);
    return params;
  }
  const boundary = /boundary=([^;]+)/.exec(type)?.[1];
  if (type.includes('multipart/form-data') && boundary) return { ...params, ...parseMultipart(body, boundary) };
  return params;
}

function asInt(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isInteger(n) ? n : undefined;
}

function detectEntities(text: string): FakeEntity[] {
  const entities: FakeEntity[] = [];
  const command = /^\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?/.exec(text);
  if (command) entities.push({ type: 'bot_command', offset: 0, length: command[0].length });
  for (const m of text.matchAll(/(^|[^A-Za-z0-9_/])@([A-Za-z0-9_]{4,32})/g)) {
    const offset = m.index + m[1]!.length;
    // Offsets are UTF-16 code units, as in the Bot API: JS string indices already are.
    entities.push({ type: 'mention', offset, length: m[2]!.length + 1 });
  }
  return entities;
}

// The Bot API nests replies one level deep only.
function withoutReply(m: FakeMessage): FakeMessage {
  const { reply_to_message: _ignored, ...rest } = m;
  return rest;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export class FakeTelegram {
  readonly token: string;
  readonly bot: Required<FakeUser> & { can_join_groups: boolean; can_read_all_group_messages: boolean; supports_inline_queries: boolean };
  /** `TELEGRAM_API_ROOT` for the code under test. */
  url = '';

  private server: Server;
  private chats = new Map<number, ChatState>();
  private queue: Update[] = [];
  private nextUpdateId = 700_000_001;
  private parked: ParkedPoll | undefined;
  private hanging = new Set<ServerResponse>();
  private faults: (Fault & { left: number })[] = [];
  private recorded: RecordedCall[] = [];
  private callbacks = new Map<string, { answered: boolean; text?: string; show_alert?: boolean }>();
  private nextCallbackId = 1;
  private listeners = new Set<() => void>();
  // Kept beside the messages so they never leak into what the Bot API returns.
  private botMessageState = new WeakMap<FakeMessage, { history?: string[]; deleted?: boolean }>();
  private allowedUpdates: string[] = [];
  private maxPollSeconds: number;
  private closed = false;
  webhookUrl = '';
  commands: unknown[] = [];

  constructor(options: FakeTelegramOptions = {}) {
    this.token = options.token ?? '123456789:AAfakeTokenForTestsOnly_abcdefghijklmnop';
    const id = options.bot?.id ?? Number(this.token.split(':')[0]);
    this.bot = {
      id,
      is_bot: true,
      first_name: options.bot?.first_name ?? 'Tether Test Bot',
      username: options.bot?.username ?? 'tether_test_bot',
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
    };
    this.maxPollSeconds = options.maxPollSeconds ?? 50;
    this.server = createServer((req, res) => void this.route(req, res));
    this.server.keepAliveTimeout = 60_000;
  }

  async listen(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Answers parked polls, drops keep-alive sockets and stops listening. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.parked) this.answerParked([]);
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await done;
  }

  // ---------- test side: the world of users, chats and topics

  /** A private chat with `user` (created on first use, like a user pressing Start). */
  privateChat(user: FakeUser): FakeChat {
    const existing = this.chats.get(user.id);
    if (existing) return existing.chat;
    const chat: FakeChat = { id: user.id, type: 'private', first_name: user.first_name, ...(user.username ? { username: user.username } : {}) };
    this.addChat(chat);
    return chat;
  }

  /** A basic group (negative id). */
  createGroup(id: number, title = `Group ${id}`): FakeChat {
    return this.addChat({ id, type: 'group', title }).chat;
  }

  /** A supergroup, optionally a forum with topics (General always exists). */
  createSupergroup(id: number, title = `Supergroup ${id}`, options: { forum?: boolean; botCanManageTopics?: boolean } = {}): FakeChat {
    const state = this.addChat({ id, type: 'supergroup', title, ...(options.forum ? { is_forum: true as const } : {}) });
    state.botCanManageTopics = options.botCanManageTopics ?? true;
    return state.chat;
  }

  /** Creates a topic in a forum; its id is the id of its creation service message, as in Telegram. */
  createTopic(chatId: number, name: string, options: { id?: number; creator?: FakeUser } = {}): number {
    const state = this.chatState(chatId);
    if (!state.chat.is_forum) throw new Error(`fake: chat ${chatId} is not a forum`);
    const id = options.id ?? state.nextMessageId;
    state.nextMessageId = Math.max(state.nextMessageId, id + 1);
    const created: FakeMessage = {
      message_id: id,
      chat: state.chat,
      from: options.creator ?? { id: 9_000_001, first_name: 'Topic Creator' },
      date: now(),
      message_thread_id: id,
      is_topic_message: true,
      forum_topic_created: { name, icon_color: 7322096 },
    };
    state.messages.set(id, created);
    state.topics.set(id, { id, name, closed: false, deleted: false, created });
    this.notify();
    return id;
  }

  closeTopic(chatId: number, topicId: number): void {
    this.topic(chatId, topicId).closed = true;
    this.notify();
  }

  deleteTopic(chatId: number, topicId: number): void {
    this.topic(chatId, topicId).deleted = true;
    this.notify();
  }

  isTopicClosed(chatId: number, topicId: number): boolean {
    return this.topic(chatId, topicId).closed;
  }

  /** The user blocks the bot: sends are refused with 403 and a my_chat_member update arrives. */
  userBlocksBot(user: FakeUser): void {
    const state = this.chatState(this.privateChat(user).id);
    state.blocked = true;
    this.enqueue({
      my_chat_member: {
        chat: state.chat,
        from: user,
        date: now(),
        old_chat_member: { status: 'member', user: this.bot },
        new_chat_member: { status: 'kicked', user: this.bot, until_date: 0 },
      },
    });
  }

  userDeactivates(user: FakeUser): void {
    this.chatState(this.privateChat(user).id).deactivated = true;
  }

  /**
   * Upgrades a group to a supergroup: sends to the old id fail with migrate_to_chat_id, and both
   * service messages arrive as Telegram delivers them.
   */
  migrateGroup(oldId: number, newId: number, by: FakeUser = { id: 9_000_002, first_name: 'Admin' }): FakeChat {
    const old = this.chatState(oldId);
    const next = this.createSupergroup(newId, old.chat.title);
    old.migratedTo = newId;
    this.enqueue({ message: this.storeMessage(old, { from: by, migrate_to_chat_id: newId }) });
    this.enqueue({ message: this.storeMessage(this.chatState(newId), { from: by, migrate_from_chat_id: oldId }) });
    return next;
  }

  /** A user writes `text` in `chat`; returns the stored message (its update is queued for the bot). */
  userSends(chat: number | FakeChat, text: string, options: UserSendOptions = {}): FakeMessage {
    const entities = options.entities ?? detectEntities(text);
    return this.userMessage(chat, { text, ...(entities.length > 0 ? { entities } : {}) }, options);
  }

  /** A user sends media (a photo, a sticker, a voice message…), with a caption or without; returns the stored message. */
  userSendsMedia(chat: number | FakeChat, media: FakeMedia, options: UserSendOptions = {}): FakeMessage {
    const { caption, ...content } = media;
    const entities = caption === undefined ? [] : (options.entities ?? detectEntities(caption));
    return this.userMessage(chat, { ...content, ...(caption !== undefined ? { caption } : {}), ...(entities.length > 0 ? { caption_entities: entities } : {}) }, options);
  }

  private userMessage(chat: number | FakeChat, content: Partial<FakeMessage>, options: UserSendOptions): FakeMessage {
    const chatId = typeof chat === 'number' ? chat : chat.id;
    let state = this.chats.get(chatId);
    if (!state) {
      if (chatId < 0) throw new Error(`fake: create group ${chatId} first`);
      state = this.chatState(this.privateChat(options.from ?? { id: chatId, first_name: `User${chatId}` }).id);
    }
    const from = options.from ?? (state.chat.type === 'private' ? { id: chatId, first_name: state.chat.first_name ?? `User${chatId}` } : undefined);
    if (!from) throw new Error('fake: userSends in a group needs options.from');
    const fields: Partial<FakeMessage> & { from: FakeUser } = { from, ...content };
    const topicId = options.thread !== undefined && options.thread !== GENERAL_TOPIC_ID ? options.thread : undefined;
    if (topicId !== undefined) {
      const topic = this.topic(chatId, topicId);
      fields.message_thread_id = topicId;
      fields.is_topic_message = true;
      // In a topic, a message that replies to nothing replies to the topic's creation message.
      fields.reply_to_message = topic.created;
    }
    if (options.replyTo !== undefined) {
      const target = state.messages.get(options.replyTo);
      if (!target) throw new Error(`fake: message ${options.replyTo} does not exist in chat ${chatId}`);
      fields.reply_to_message = withoutReply(target);
    }
    const message = this.storeMessage(state, fields);
    this.enqueue({ message });
    return message;
  }

  /** A user edits an earlier message of theirs (edited_message update). */
  userEdits(chatId: number, messageId: number, text: string): FakeMessage {
    const message = this.chatState(chatId).messages.get(messageId);
    if (!message) throw new Error(`fake: no message ${messageId} in ${chatId}`);
    message.text = text;
    message.edit_date = now();
    this.enqueue({ edited_message: { ...message } });
    return message;
  }

  /** A user presses an inline button of a bot message; returns the callback query id. */
  userPresses(chatId: number, messageId: number, data: string, from: FakeUser): string {
    const message = this.chatState(chatId).messages.get(messageId);
    if (!message) throw new Error(`fake: no message ${messageId} in ${chatId}`);
    const id = `cbq${this.nextCallbackId++}`;
    this.callbacks.set(id, { answered: false });
    this.enqueue({ callback_query: { id, from, message: { ...message }, chat_instance: `ci${chatId}`, data } });
    return id;
  }

  /** An update the test builds itself (e.g. from another bot), queued as is. */
  injectUpdate(update: Record<string, unknown>): number {
    return this.enqueue(update);
  }

  /** Serves `fault` instead of the real answer to the next matching call(s). */
  fail(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  /** Faults not yet served. */
  pendingFaults(): number {
    return this.faults.reduce((n, f) => n + f.left, 0);
  }

  // ---------- test side: observing

  /** Every call of `method` (case-insensitive) in order, failed ones included. */
  callsOf(method: string): RecordedCall[] {
    const m = method.toLowerCase();
    return this.recorded.filter((c) => c.method.toLowerCase() === m);
  }

  get calls(): readonly RecordedCall[] {
    return this.recorded;
  }

  callCount(method: string): number {
    return this.callsOf(method).length;
  }

  /**
   * The bot's messages in `chatId`, oldest first. With `thread`: only that topic's;
   * GENERAL_TOPIC_ID selects the chat itself (messages without a topic).
   */
  sent(chatId: number, thread?: number): SentMessage[] {
    const state = this.chats.get(chatId);
    if (!state) return [];
    const out: SentMessage[] = [];
    for (const m of state.messages.values()) {
      if (m.from.id !== this.bot.id || m.text === undefined) continue;
      if (thread !== undefined && (m.message_thread_id ?? GENERAL_TOPIC_ID) !== thread) continue;
      const record = this.botMessageState.get(m) ?? {};
      out.push({
        chatId,
        messageId: m.message_id,
        thread: m.message_thread_id,
        text: m.text,
        replyMarkup: m.reply_markup,
        replyTo: m.reply_to_message?.message_id,
        deleted: record.deleted ?? false,
        history: record.history ?? [m.text],
      });
    }
    return out.filter((m) => !m.deleted);
  }

  /** Every bot message in every chat, in the order they were sent. */
  allSent(): SentMessage[] {
    return [...this.chats.keys()].flatMap((id) => this.sent(id)).sort((a, b) => a.messageId - b.messageId || a.chatId - b.chatId);
  }

  callbackAnswer(id: string): { answered: boolean; text?: string } | undefined {
    return this.callbacks.get(id);
  }

  /** Updates queued and not yet confirmed by an offset. */
  pendingUpdates(): number {
    return this.queue.length;
  }

  /** True while a getUpdates request is parked (the bot is listening). */
  isPolling(): boolean {
    return this.parked !== undefined;
  }

  /** Resolves when `predicate` holds, re-checked after every change of the fake and every 20 ms; rejects after `timeoutMs`. */
  waitFor<T>(predicate: () => T | undefined | false | null, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    return waitForChange(this.listeners, predicate, timeoutMs, what, 'fake telegram');
  }

  // ---------- internals

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  private addChat(chat: FakeChat): ChatState {
    const state: ChatState = { chat, messages: new Map(), nextMessageId: 1, topics: new Map(), blocked: false, deactivated: false, botCanManageTopics: true };
    this.chats.set(chat.id, state);
    return state;
  }

  private chatState(chatId: number): ChatState {
    const state = this.chats.get(chatId);
    if (!state) throw new Error(`fake: unknown chat ${chatId}`);
    return state;
  }

  private topic(chatId: number, topicId: number): Topic {
    const topic = this.chatState(chatId).topics.get(topicId);
    if (!topic) throw new Error(`fake: no topic ${topicId} in ${chatId}`);
    return topic;
  }

  private storeMessage(state: ChatState, fields: Partial<FakeMessage> & { from: FakeUser }): FakeMessage {
    const message: FakeMessage = { message_id: state.nextMessageId++, chat: state.chat, date: now(), ...fields };
    state.messages.set(message.message_id, message);
    return message;
  }

  private enqueue(body: Record<string, unknown>): number {
    const update: Update = { update_id: this.nextUpdateId++, ...body };
    const kind = Object.keys(body)[0]!;
    // allowed_updates filters new updates only (it is not retroactive), as in the Bot API.
    const defaultExcluded = ['chat_member', 'message_reaction', 'message_reaction_count'];
    const allowed = this.allowedUpdates.length > 0 ? this.allowedUpdates.includes(kind) : !defaultExcluded.includes(kind);
    if (allowed) this.queue.push(update);
    if (this.parked) {
      const batch = this.batch(this.parked.offset, this.parked.limit);
      if (batch.length > 0) this.answerParked(batch);
    }
    this.notify();
    return update.update_id;
  }

  private batch(offset: number | undefined, limit: number): Update[] {
    if (offset !== undefined && offset < 0) {
      // A negative offset keeps the last -offset updates and forgets all earlier ones.
      this.queue = this.queue.slice(offset);
    } else if (offset !== undefined) {
      this.queue = this.queue.filter((u) => u.update_id >= offset);
    }
    return this.queue.slice(0, limit);
  }

  private answerParked(result: Update[] | ApiError): void {
    const poll = this.parked;
    if (!poll) return;
    this.parked = undefined;
    clearTimeout(poll.timer);
    if (result instanceof ApiError) this.writeError(poll.res, result);
    else this.writeOk(poll.res, result);
  }

  private writeOk(res: ServerResponse, result: unknown): void {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, result }));
  }

  private writeError(res: ServerResponse, err: ApiError): void {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(err.code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: false, error_code: err.code, description: err.description, ...(err.parameters ? { parameters: err.parameters } : {}) }));
  }

  private record(method: string, params: Record<string, unknown>, outcome: { ok: true } | ApiError): void {
    this.recorded.push({
      method,
      params,
      at: Date.now(),
      ok: !(outcome instanceof ApiError),
      ...(outcome instanceof ApiError ? { errorCode: outcome.code, description: outcome.description } : {}),
    });
    this.notify();
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const m = /^\/bot([^/]+)\/(?:test\/)?([A-Za-z]+)$/.exec(url.pathname);
    let params: Record<string, unknown> = {};
    try {
      params = await readParams(req, url);
    } catch {
      this.writeError(res, new ApiError(400, 'Bad Request: invalid JSON body'));
      return;
    }
    if (!m) {
      this.writeError(res, new ApiError(404, 'Not Found'));
      return;
    }
    const [, token, method] = m as unknown as [string, string, string];
    if (token !== this.token) {
      const err = new ApiError(401, TELEGRAM_ERRORS.unauthorized);
      this.record(method, params, err);
      this.writeError(res, err);
      return;
    }
    const fault = this.faults.find((f) => f.left > 0 && f.method.toLowerCase() === method.toLowerCase() && (f.when?.(params) ?? true));
    if (fault) {
      fault.left--;
      this.faults = this.faults.filter((f) => f.left > 0);
      if (fault.network === 'destroy') {
        this.record(method, params, new ApiError(0, 'network: socket destroyed'));
        req.socket.destroy();
        return;
      }
      if (fault.network === 'hang') {
        this.record(method, params, new ApiError(0, 'network: no answer'));
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      }
      const err = new ApiError(fault.error_code ?? 500, fault.description ?? TELEGRAM_ERRORS.internal, fault.parameters);
      this.record(method, params, err);
      this.writeError(res, err);
      return;
    }
    if (method.toLowerCase() === 'getupdates') {
      this.getUpdates(params, res);
      return;
    }
    try {
      const result = this.dispatch(method, params);
      this.record(method, params, { ok: true });
      this.writeOk(res, result);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      this.record(method, params, err);
      this.writeError(res, err);
    }
  }

  private getUpdates(params: Record<string, unknown>, res: ServerResponse): void {
    if (this.webhookUrl) {
      const err = new ApiError(409, TELEGRAM_ERRORS.webhookActive);
      this.record('getUpdates', params, err);
      this.writeError(res, err);
      return;
    }
    this.record('getUpdates', params, { ok: true });
    if (Array.isArray(params.allowed_updates)) this.allowedUpdates = params.allowed_updates as string[];
    const offset = asInt(params.offset);
    const limit = Math.min(100, Math.max(1, asInt(params.limit) ?? 100));
    const timeout = Math.min(this.maxPollSeconds, Math.max(0, asInt(params.timeout) ?? 0));
    // The newest poll wins: the one already parked is answered with the conflict.
    if (this.parked) this.answerParked(new ApiError(409, TELEGRAM_ERRORS.pollConflict));
    const batch = this.batch(offset, limit);
    if (batch.length > 0 || timeout === 0 || this.closed) {
      this.writeOk(res, batch);
      return;
    }
    const poll: ParkedPoll = { res, offset, limit, timer: setTimeout(() => this.parked === poll && this.answerParked([]), timeout * 1000) };
    this.parked = poll;
    // res 'close' (not req 'close', which fires once the body is read) tells a client abort apart.
    res.on('close', () => {
      if (this.parked === poll && !res.writableEnded) {
        clearTimeout(poll.timer);
        this.parked = undefined;
      }
    });
    this.notify();
  }

  private dispatch(method: string, p: Record<string, unknown>): unknown {
    switch (method.toLowerCase()) {
      case 'getme':
        return this.bot;
      case 'deletewebhook':
        this.webhookUrl = '';
        if (p.drop_pending_updates === true || p.drop_pending_updates === 'true') this.queue = [];
        return true;
      case 'setwebhook':
        this.webhookUrl = String(p.url ?? '');
        if (this.parked) this.answerParked(new ApiError(409, TELEGRAM_ERRORS.terminatedBySetWebhook));
        return true;
      case 'getwebhookinfo':
        return { url: this.webhookUrl, has_custom_certificate: false, pending_update_count: this.queue.length };
      case 'sendmessage':
        return this.sendMessage(p);
      case 'editmessagetext':
        return this.editMessage(p, true);
      case 'editmessagereplymarkup':
        return this.editMessage(p, false);
      case 'deletemessage': {
        const message = this.writableChat(p).messages.get(asInt(p.message_id) ?? -1);
        if (!message || this.botMessageState.get(message)?.deleted) throw new ApiError(400, TELEGRAM_ERRORS.deleteNotFound);
        this.botMessageState.set(message, { ...this.botMessageState.get(message), deleted: true });
        this.notify();
        return true;
      }
      case 'answercallbackquery': {
        const cb = this.callbacks.get(String(p.callback_query_id ?? ''));
        if (!cb || cb.answered) throw new ApiError(400, TELEGRAM_ERRORS.queryInvalid);
        cb.answered = true;
        if (typeof p.text === 'string') cb.text = p.text;
        return true;
      }
      case 'sendchataction': {
        const state = this.writableChat(p);
        const thread = asInt(p.message_thread_id);
        // Typing goes straight to TDLib: General (1) is fine here, unlike in sendMessage.
        if (thread !== undefined && thread !== GENERAL_TOPIC_ID) this.checkTopic(state, thread);
        return true;
      }
      case 'setmycommands': {
        const commands = Array.isArray(p.commands) ? (p.commands as { command?: unknown; description?: unknown }[]) : [];
        for (const c of commands) {
          if (typeof c.command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(c.command)) throw new ApiError(400, TELEGRAM_ERRORS.commandInvalid);
          if (typeof c.description !== 'string' || c.description.length < 1 || c.description.length > 256) throw new ApiError(400, 'Bad Request: BOT_COMMAND_DESCRIPTION_INVALID');
        }
        this.commands = commands;
        return true;
      }
      case 'getmycommands':
        return this.commands;
      case 'deletemycommands':
        this.commands = [];
        return true;
      case 'reopenforumtopic':
      case 'closeforumtopic': {
        const state = this.writableChat(p);
        if (!state.chat.is_forum) throw new ApiError(400, 'Bad Request: the chat is not a forum');
        if (!state.botCanManageTopics) throw new ApiError(400, TELEGRAM_ERRORS.notEnoughRights);
        const topic = state.topics.get(asInt(p.message_thread_id) ?? -1);
        if (!topic || topic.deleted) throw new ApiError(400, TELEGRAM_ERRORS.threadNotFound);
        const closing = method.toLowerCase() === 'closeforumtopic';
        if (topic.closed === closing) throw new ApiError(400, TELEGRAM_ERRORS.topicNotModified);
        topic.closed = closing;
        return true;
      }
      case 'getchat':
        return this.knownChat(p).chat;
      case 'close':
      case 'logout':
        return true;
      default:
        throw new ApiError(404, TELEGRAM_ERRORS.methodNotFound);
    }
  }

  private knownChat(p: Record<string, unknown>): ChatState {
    const state = this.chats.get(asInt(p.chat_id) ?? NaN);
    if (!state) throw new ApiError(400, TELEGRAM_ERRORS.chatNotFound);
    return state;
  }

  /** A chat the bot may write to right now, or the error Telegram gives. */
  private writableChat(p: Record<string, unknown>): ChatState {
    const state = this.knownChat(p);
    if (state.migratedTo !== undefined) throw new ApiError(400, TELEGRAM_ERRORS.migrated, { migrate_to_chat_id: state.migratedTo });
    if (state.deactivated) throw new ApiError(403, TELEGRAM_ERRORS.deactivated);
    if (state.blocked) throw new ApiError(403, TELEGRAM_ERRORS.blocked);
    return state;
  }

  private checkTopic(state: ChatState, thread: number): Topic {
    const topic = state.topics.get(thread);
    if (!state.chat.is_forum || !topic) throw new ApiError(400, TELEGRAM_ERRORS.threadNotFound);
    if (topic.deleted) throw new ApiError(400, TELEGRAM_ERRORS.topicDeleted);
    if (topic.closed) throw new ApiError(400, TELEGRAM_ERRORS.topicClosed);
    return topic;
  }

  private checkText(text: unknown): string {
    const s = typeof text === 'string' ? text : text === undefined ? '' : String(text);
    if (Buffer.byteLength(s, 'utf8') > 1 << 15) throw new ApiError(400, TELEGRAM_ERRORS.textTooLongRaw);
    if (s.trim() === '') throw new ApiError(400, TELEGRAM_ERRORS.textEmpty);
    if (codePoints(s) > 4096) throw new ApiError(400, TELEGRAM_ERRORS.messageTooLong);
    return s;
  }

  private sendMessage(p: Record<string, unknown>): FakeMessage {
    const state = this.writableChat(p);
    const thread = asInt(p.message_thread_id);
    // Sends to General must omit the id: 1 is refused, exactly as the Bot API does in forums.
    if (thread !== undefined) this.checkTopic(state, thread);
    const replyParams = (p.reply_parameters ?? {}) as { message_id?: unknown; allow_sending_without_reply?: unknown };
    const replyId = asInt(replyParams.message_id) ?? asInt(p.reply_to_message_id);
    let replyTo: FakeMessage | undefined;
    if (replyId !== undefined) {
      replyTo = state.messages.get(replyId);
      const allowWithout = (replyParams.allow_sending_without_reply ?? p.allow_sending_without_reply) === true && thread === undefined;
      if (!replyTo && !allowWithout) throw new ApiError(400, TELEGRAM_ERRORS.replyNotFound);
    }
    const text = this.checkText(p.text);
    const message = this.storeMessage(state, {
      from: this.bot,
      text,
      ...(thread !== undefined ? { message_thread_id: thread, is_topic_message: true as const } : {}),
      ...(replyTo ? { reply_to_message: withoutReply(replyTo) } : {}),
      ...(p.reply_markup !== undefined ? { reply_markup: p.reply_markup } : {}),
    });
    this.notify();
    return message;
  }

  private editMessage(p: Record<string, unknown>, withText: boolean): FakeMessage {
    const state = this.writableChat(p);
    const message = state.messages.get(asInt(p.message_id) ?? -1);
    const extra = message ? (this.botMessageState.get(message) ?? {}) : {};
    if (!message || extra.deleted) throw new ApiError(400, TELEGRAM_ERRORS.editNotFound);
    if (message.from.id !== this.bot.id) throw new ApiError(400, TELEGRAM_ERRORS.cantEdit);
    const text = withText ? this.checkText(p.text) : message.text;
    // An absent reply_markup removes the keyboard (both methods), as in the Bot API.
    const markup = p.reply_markup;
    if (text === message.text && sameJson(markup, message.reply_markup)) throw new ApiError(400, TELEGRAM_ERRORS.notModified);
    if (text !== message.text && text !== undefined) this.botMessageState.set(message, { ...extra, history: [...(extra.history ?? [message.text ?? '']), text] });
    message.text = text;
    if (markup === undefined) delete message.reply_markup;
    else message.reply_markup = markup;
    message.edit_date = now();
    this.notify();
    return message;
  }
}

/** Starts a fake Bot API on 127.0.0.1 (a free port); `close()` it in afterEach. */
export async function startFakeTelegram(options: FakeTelegramOptions = {}): Promise<FakeTelegram> {
  return new FakeTelegram(options).listen();
}
