// The fake's chats and messages: who is where, what was said, and the platform's rules for what a bot may send.
//
// Rules are the open platform's (notes §3, §4 and the send/reply/update error tables): `uuid` makes a send happen at
// most once an hour, text bodies stop at 150 KB and post/card bodies at 30 KB (230025), a message is edited 20
// times at most (230072), replies to recalled messages fail (230011), a reply to a thread message stays in the
// thread. Every refusal is a FeishuApiError carrying the production code.
import { FEISHU_CODES, FeishuApiError } from './codes.js';
import { visibleText, type FakeApp, type FakeChat, type FakeChatMode, type FakeUser } from './events.js';

/** Request bodies over these sizes are refused with 230025 (the tables say 150 KB and 30 KB; KiB assumed). */
export const BODY_LIMIT_BYTES: Record<string, number> = { text: 150 * 1024, post: 30 * 1024, interactive: 30 * 1024 };
export const MAX_EDITS = 20;
export const UUID_WINDOW_MS = 60 * 60 * 1000;
export const UUID_MAX_LENGTH = 50;

export type MessageAuthor = { kind: 'bot' } | { kind: 'user'; user: FakeUser } | { kind: 'app'; app: FakeApp };

export interface Reaction {
  reactionId: string;
  emojiType: string;
  byBot: boolean;
  deleted: boolean;
}

/** One message as the platform keeps it; tests read these through `FakeFeishu.sent()` and `.messages()`. */
export interface StoredMessage {
  messageId: string;
  chatId: string;
  msgType: string;
  /** The content JSON string, as sent. */
  content: string;
  /** What a person sees, decoded from the content (`<at>` tags as @Name, cards as their texts). */
  text: string;
  author: MessageAuthor;
  rootId?: string;
  parentId?: string;
  threadId?: string;
  createTime: number;
  updateTime: number;
  /** Recalled, by the bot (delete) or by the user. */
  recalled: boolean;
  /** How the bot sent it, and with which `uuid` and `reply_in_thread`. */
  via: 'create' | 'reply' | 'user';
  uuid?: string;
  replyInThread?: boolean;
  edits: number;
  /** Every visible text the message had, first to last (update and patch append). */
  history: string[];
  reactions: Reaction[];
}

interface ChatState {
  chat: FakeChat;
  /** The person of a p2p chat. */
  user?: FakeUser;
  botInChat: boolean;
  muted: boolean;
  userBlockedBot: boolean;
  messages: StoredMessage[];
  /** Root message id → thread id, created by the first reply in thread. */
  threads: Map<string, string>;
  /** Clock times of recent operations, for the optional per-chat rate limit. */
  recentOps: number[];
}

export interface WorldOptions {
  appId: string;
  tenantKey: string;
  now: () => number;
  /** Refuse with 230020 past this many operations per chat per second; undefined: no limit. */
  perChatQps?: number;
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');

export class FeishuWorld {
  private readonly chats = new Map<string, ChatState>();
  private readonly byId = new Map<string, StoredMessage>();
  private readonly byUuid = new Map<string, { message: StoredMessage; at: number }>();
  /** Everyone the fake made, so a send by open_id reaches a person who never opened the bot (a p2p chat appears). */
  private readonly users = new Map<string, FakeUser>();
  private nextId = 1;

  constructor(private readonly options: WorldOptions) {}

  // ---------- people and chats

  user(name: string): FakeUser {
    const n = this.nextId++;
    const user = { openId: `ou_${hex(n, 32)}`, unionId: `on_${hex(n, 32)}`, userId: `u${hex(n, 8)}`, name };
    this.users.set(user.openId, user);
    return user;
  }

  app(name: string): FakeApp {
    const n = this.nextId++;
    return { appId: `cli_${hex(n, 16)}`, openId: `ou_${hex(n, 32)}`, name };
  }

  /** The p2p chat of `user` with the bot, created on first use (a person opening the bot). */
  p2pChat(user: FakeUser): FakeChat {
    for (const s of this.chats.values()) if (s.chat.mode === 'p2p' && s.user?.openId === user.openId) return s.chat;
    return this.addChat('p2p', user.name, user).chat;
  }

  /** A group (`group`) or topic group (`topic`, where every top-level message starts a thread) with the bot in it. */
  group(name: string, mode: Exclude<FakeChatMode, 'p2p'> = 'group'): FakeChat {
    return this.addChat(mode, name).chat;
  }

  chatState(chatId: string): ChatState {
    const s = this.chats.get(chatId);
    if (!s) throw new Error(`fake feishu: no chat ${chatId}`);
    return s;
  }

  knownChat(chatId: string): ChatState | undefined {
    return this.chats.get(chatId);
  }

  setChatFlags(chatId: string, flags: Partial<Pick<ChatState, 'botInChat' | 'muted' | 'userBlockedBot'>>): void {
    Object.assign(this.chatState(chatId), flags);
  }

  message(messageId: string): StoredMessage | undefined {
    return this.byId.get(messageId);
  }

  messagesOf(chatId: string): StoredMessage[] {
    return this.chats.get(chatId)?.messages ?? [];
  }

  // ---------- what people do

  /** Stores a message a person (or another app) wrote; `inThreadOf` puts it in the thread of that root message. */
  storeIncoming(
    chatId: string,
    author: MessageAuthor,
    msgType: string,
    content: string,
    placement: { inThreadOf?: string; replyTo?: string } = {},
    mentions: { key: string; name: string }[] = [],
  ): StoredMessage {
    const state = this.chatState(chatId);
    const message = this.newMessage(state, author, msgType, content, 'user');
    // A phone shows `@Name` where the content has the placeholder.
    for (const m of mentions) message.text = message.text.split(m.key).join(`@${m.name}`);
    message.history = [message.text];
    const replyTo = placement.replyTo ? this.existing(placement.replyTo) : undefined;
    const root = placement.inThreadOf ? this.existing(placement.inThreadOf) : replyTo?.threadId ? this.existing(replyTo.rootId ?? replyTo.messageId) : undefined;
    if (root) {
      message.rootId = root.rootId ?? root.messageId;
      message.parentId = replyTo?.messageId ?? message.rootId;
      message.threadId = this.threadOf(state, message.rootId);
    } else if (replyTo) {
      message.rootId = replyTo.rootId ?? replyTo.messageId;
      message.parentId = replyTo.messageId;
    } else if (state.chat.mode === 'topic') {
      // In a topic group every top-level message is a topic of its own.
      message.threadId = this.threadOf(state, message.messageId);
    }
    return this.commit(state, message);
  }

  recallByUser(messageId: string): void {
    this.existing(messageId).recalled = true;
  }

  // ---------- what the bot does (the REST side calls these)

  /** POST /im/v1/messages: `receiveId` is resolved by `receiveIdType` as Feishu does. */
  create(receiveIdType: string, receiveId: string, msgType: string, content: string, uuid: string | undefined, bodyBytes: number): StoredMessage {
    this.checkUuid(uuid);
    const dup = this.sameUuid(uuid);
    if (dup) return dup;
    const state = this.resolveReceiver(receiveIdType, receiveId);
    this.checkSend(state, msgType, content, bodyBytes);
    const message = this.newMessage(state, { kind: 'bot' }, msgType, content, 'create', uuid);
    if (state.chat.mode === 'topic') message.threadId = this.threadOf(state, message.messageId);
    return this.commitUuid(this.commit(state, message), uuid);
  }

  /** POST /im/v1/messages/:id/reply: stays in the thread when asked, or when the target already is in one. */
  reply(targetId: string, msgType: string, content: string, replyInThread: boolean, uuid: string | undefined, bodyBytes: number): StoredMessage {
    this.checkUuid(uuid);
    const dup = this.sameUuid(uuid);
    if (dup) return dup;
    const target = this.existing(targetId);
    if (target.recalled) throw new FeishuApiError(FEISHU_CODES.messageRecalled);
    const state = this.chatState(target.chatId);
    this.checkSend(state, msgType, content, bodyBytes);
    const message = this.newMessage(state, { kind: 'bot' }, msgType, content, 'reply', uuid);
    message.replyInThread = replyInThread;
    message.rootId = target.rootId ?? target.messageId;
    message.parentId = target.messageId;
    if (replyInThread || target.threadId || state.chat.mode === 'topic') message.threadId = target.threadId ?? this.threadOf(state, message.rootId);
    return this.commitUuid(this.commit(state, message), uuid);
  }

  /** PUT /im/v1/messages/:id: text and post only, the bot's own, 20 edits at most. */
  update(messageId: string, msgType: string, content: string, bodyBytes: number): StoredMessage {
    const message = this.ownLiveMessage(messageId);
    if (!['text', 'post'].includes(message.msgType) || !['text', 'post'].includes(msgType)) throw new FeishuApiError(FEISHU_CODES.unsupportedForType);
    if (message.edits >= MAX_EDITS) throw new FeishuApiError(FEISHU_CODES.editLimitReached);
    const state = this.chatState(message.chatId);
    this.checkSend(state, msgType, content, bodyBytes);
    message.edits++;
    return this.rewrite(message, msgType, content);
  }

  /** PATCH /im/v1/messages/:id: cards only (update_multi is not checked). */
  patch(messageId: string, content: string, bodyBytes: number): StoredMessage {
    const message = this.ownLiveMessage(messageId);
    if (message.msgType !== 'interactive') throw new FeishuApiError(FEISHU_CODES.unsupportedForType);
    this.checkSend(this.chatState(message.chatId), 'interactive', content, bodyBytes);
    return this.rewrite(message, 'interactive', content);
  }

  /** DELETE /im/v1/messages/:id: a recall. */
  recall(messageId: string): void {
    const message = this.ownLiveMessage(messageId);
    this.countOp(this.chatState(message.chatId));
    message.recalled = true;
  }

  addReaction(messageId: string, emojiType: string): Reaction {
    const message = this.existing(messageId);
    if (message.recalled) throw new FeishuApiError(FEISHU_CODES.messageRecalled);
    if (!emojiType) throw new FeishuApiError(FEISHU_CODES.imInvalidParam, 'ext=reaction_type.emoji_type is required');
    this.countOp(this.chatState(message.chatId));
    const reaction: Reaction = { reactionId: `r_fake_${this.nextId++}`, emojiType, byBot: true, deleted: false };
    message.reactions.push(reaction);
    return reaction;
  }

  removeReaction(messageId: string, reactionId: string): Reaction {
    const message = this.existing(messageId);
    const reaction = message.reactions.find((r) => r.reactionId === reactionId && !r.deleted);
    // A bot can remove only the reactions it added.
    if (!reaction || !reaction.byBot) throw new FeishuApiError(FEISHU_CODES.imInvalidParam, 'ext=reaction not found');
    this.countOp(this.chatState(message.chatId));
    reaction.deleted = true;
    return reaction;
  }

  // ---------- internals

  private addChat(mode: FakeChatMode, name: string, user?: FakeUser): ChatState {
    const chat: FakeChat = { chatId: `oc_${hex(this.nextId++, 32)}`, mode, name };
    const state: ChatState = { chat, ...(user ? { user } : {}), botInChat: true, muted: false, userBlockedBot: false, messages: [], threads: new Map(), recentOps: [] };
    this.chats.set(chat.chatId, state);
    return state;
  }

  private existing(messageId: string): StoredMessage {
    const m = this.byId.get(messageId);
    if (!m) throw new FeishuApiError(FEISHU_CODES.messageNotFound);
    return m;
  }

  private ownLiveMessage(messageId: string): StoredMessage {
    const message = this.existing(messageId);
    if (message.recalled) throw new FeishuApiError(FEISHU_CODES.messageRecalled);
    if (message.author.kind !== 'bot') throw new FeishuApiError(FEISHU_CODES.notSender);
    return message;
  }

  private threadOf(state: ChatState, rootId: string): string {
    let thread = state.threads.get(rootId);
    if (!thread) {
      thread = `omt_${hex(this.nextId++, 16)}`;
      state.threads.set(rootId, thread);
    }
    return thread;
  }

  private resolveReceiver(receiveIdType: string, receiveId: string): ChatState {
    if (receiveIdType === 'chat_id') {
      const state = this.chats.get(receiveId);
      if (!state) throw new FeishuApiError(FEISHU_CODES.imInvalidParam, 'ext=invalid receive_id');
      return state;
    }
    const key = ({ open_id: 'openId', union_id: 'unionId', user_id: 'userId' } as const)[receiveIdType as 'open_id'];
    if (!key) throw new FeishuApiError(FEISHU_CODES.imInvalidParam, `ext=invalid receive_id_type ${receiveIdType || '(missing)'}`);
    for (const s of this.chats.values()) if (s.chat.mode === 'p2p' && s.user?.[key] === receiveId) return s;
    const user = [...this.users.values()].find((u) => u[key] === receiveId);
    if (user) return this.chatState(this.p2pChat(user).chatId);
    throw new FeishuApiError(FEISHU_CODES.imInvalidParam, 'ext=invalid receive_id');
  }

  private checkSend(state: ChatState, msgType: string, content: string, bodyBytes: number): void {
    if (!state.botInChat) throw new FeishuApiError(FEISHU_CODES.botNotInChat);
    if (state.userBlockedBot) throw new FeishuApiError(FEISHU_CODES.userBlockedBot);
    if (state.muted) throw new FeishuApiError(FEISHU_CODES.noPermissionToSpeak);
    if (!msgType) throw new FeishuApiError(FEISHU_CODES.imInvalidParam, 'ext=msg_type is required');
    try {
      JSON.parse(content);
    } catch {
      throw new FeishuApiError(FEISHU_CODES.imInvalidParam, 'ext=content is not a JSON string');
    }
    const limit = BODY_LIMIT_BYTES[msgType];
    if (limit !== undefined && bodyBytes > limit) throw new FeishuApiError(FEISHU_CODES.contentTooLong);
    this.countOp(state);
  }

  private countOp(state: ChatState): void {
    const qps = this.options.perChatQps;
    if (qps === undefined) return;
    const now = this.options.now();
    state.recentOps = state.recentOps.filter((t) => now - t < 1000);
    if (state.recentOps.length >= qps) throw new FeishuApiError(FEISHU_CODES.chatRateLimited);
    state.recentOps.push(now);
  }

  private checkUuid(uuid: string | undefined): void {
    if (uuid !== undefined && (uuid.length === 0 || uuid.length > UUID_MAX_LENGTH)) throw new FeishuApiError(FEISHU_CODES.imInvalidParam, 'ext=uuid must be 1 to 50 characters');
  }

  private sameUuid(uuid: string | undefined): StoredMessage | undefined {
    if (uuid === undefined) return undefined;
    const seen = this.byUuid.get(uuid);
    return seen && this.options.now() - seen.at < UUID_WINDOW_MS ? seen.message : undefined;
  }

  private commitUuid(message: StoredMessage, uuid: string | undefined): StoredMessage {
    if (uuid !== undefined) this.byUuid.set(uuid, { message, at: message.createTime });
    return message;
  }

  private newMessage(state: ChatState, author: MessageAuthor, msgType: string, content: string, via: StoredMessage['via'], uuid?: string): StoredMessage {
    const now = this.options.now();
    const text = visibleText(msgType, content);
    return {
      messageId: `om_${hex(this.nextId++, 32)}`,
      chatId: state.chat.chatId,
      msgType,
      content,
      text,
      author,
      createTime: now,
      updateTime: now,
      recalled: false,
      via,
      ...(uuid !== undefined ? { uuid } : {}),
      edits: 0,
      history: [text],
      reactions: [],
    };
  }

  private commit(state: ChatState, message: StoredMessage): StoredMessage {
    state.messages.push(message);
    this.byId.set(message.messageId, message);
    return message;
  }

  private rewrite(message: StoredMessage, msgType: string, content: string): StoredMessage {
    message.msgType = msgType;
    message.content = content;
    message.text = visibleText(msgType, content);
    message.history.push(message.text);
    message.updateTime = this.options.now();
    return message;
  }
}
