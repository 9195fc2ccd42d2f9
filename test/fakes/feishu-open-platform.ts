// A fake Feishu/Lark open platform on 127.0.0.1: the REST routes, the ws endpoint and the pbbp2 long connection, with faults.
//
// Point the real SDK at it with `domain: fake.url` (Client and WSClient alike; notes §6.1). It keeps chats and
// messages the way a phone shows them, pushes `im.message.receive_v1` and `card.action.trigger` events built from
// them, records every REST call, ping and ack (with its delay), and serves injected faults in place of answers.
// The pieces live in test/fakes/feishu/: frames (pbbp2), codes, events, world (rules), open-apis (routes),
// long-connection (ws). Nothing here listens beyond 127.0.0.1 or reaches the internet.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FEISHU_CODES, FeishuApiError, feishuCode, type FeishuCode } from './feishu/codes.js';
import {
  cardActionEvent,
  cardButtons,
  envelope,
  mentionsOf,
  NON_TEXT_CONTENT,
  postContent,
  senderOf,
  textContent,
  isApp,
  type Envelope,
  type FakeApp,
  type FakeChat,
  type FakeChatMode,
  type FakeUser,
  type Sender,
} from './feishu/events.js';
import { FakeLongConnection, type AckRecord, type ClientConfig, type PushOptions, type PushRecord, type WsConnection } from './feishu/long-connection.js';
import { apiError, matchRoute, TenantTokens, type ApiAnswer, type ApiRequest, type RouteContext, type RouteName } from './feishu/open-apis.js';
import { FeishuWorld, type StoredMessage } from './feishu/world.js';
import { waitForChange } from './wait-for-change.js';

export { FEISHU_CODES, type FeishuCode } from './feishu/codes.js';
export type { AckRecord, ClientConfig, PushRecord, WsConnection } from './feishu/long-connection.js';
export type { ApiRequest, RouteName } from './feishu/open-apis.js';
export type { FakeApp, FakeChat, FakeUser } from './feishu/events.js';
export type { StoredMessage } from './feishu/world.js';
export { BODY_LIMIT_BYTES, MAX_EDITS } from './feishu/world.js';

/** A valid-looking app id (the SDK's WSClient silently does nothing unless it matches ^cli_[0-9a-fA-F]{16}$). */
export const FAKE_APP_ID = 'cli_0123456789abcdef';

export interface FakeFeishuOptions {
  appId?: string;
  appSecret?: string;
  botName?: string;
  tenantKey?: string;
  /** Merged over the default: pings every 2 s, reconnect after 1 s with no jitter, forever. */
  clientConfig?: Partial<ClientConfig>;
  /** Re-push an event that got no `{"code":200}` ack within this many ms (Feishu: about 3 s); default never. */
  redeliverAfterMs?: number;
  /** Re-pushes per event at most (default 4). */
  maxRedeliveries?: number;
  /** Refuse a chat's sends, edits and reactions with 230020 past this many per second (Feishu: 5); default no limit. */
  perChatQps?: number;
  /** The platform's clock in ms, for the uuid hour, create_time and the per-chat limit; default Date.now. */
  now?: () => number;
  tokenExpireSeconds?: number;
}

/** A fault served instead of the real answer, `times` times (default 1), to calls of `route` matching `when`. */
export interface FeishuFault {
  route: RouteName | '*';
  /** The Feishu code of the answer: a FEISHU_CODES row or a number (its row, when known, gives status and msg). */
  code?: FeishuCode | number;
  /** HTTP status; default the code's documented one, else 500 (no code) or 200. */
  status?: number;
  msg?: string;
  headers?: Record<string, string>;
  /** The whole answer body instead of the Feishu envelope (e.g. a gateway's HTML). */
  body?: unknown;
  /** `hang`: accept the request and never answer (until close); `destroy`: cut the socket without an answer. */
  network?: 'hang' | 'destroy';
  times?: number;
  when?: (req: ApiRequest) => boolean;
}

/** Ready-made faults for Feishu's failure modes (add `route`). */
export const FAULTS = {
  /** HTTP 429 + 99991400 with the reset header (seconds), as the app-level limiter answers. */
  rateLimited: (resetSeconds = 1): Omit<FeishuFault, 'route'> => ({
    code: FEISHU_CODES.rateLimited,
    headers: { 'x-ogw-ratelimit-limit': '50', 'x-ogw-ratelimit-reset': String(resetSeconds) },
  }),
  /** The per-chat limiter's 230020; `status: 200` gives the shape the SDK resolves with instead of throwing. */
  chatRateLimited: (status: number = FEISHU_CODES.chatRateLimited.status): Omit<FeishuFault, 'route'> => ({ code: FEISHU_CODES.chatRateLimited, status }),
  tokenInvalid: (status: number = FEISHU_CODES.invalidTenantToken.status): Omit<FeishuFault, 'route'> => ({ code: FEISHU_CODES.invalidTenantToken, status }),
  replyTargetRecalled: (): Omit<FeishuFault, 'route'> => ({ code: FEISHU_CODES.messageRecalled }),
  replyTargetMissing: (): Omit<FeishuFault, 'route'> => ({ code: FEISHU_CODES.messageNotFound }),
  serverError: (status = 502): Omit<FeishuFault, 'route'> => ({ status, body: '<html><body>502 Bad Gateway</body></html>' }),
  hang: (): Omit<FeishuFault, 'route'> => ({ network: 'hang' }),
  /** Endpoint codes: 1000040350 and 1 are fatal for the SDK, 1000040343 is retried. */
  endpointCode: (code: FeishuCode): Omit<FeishuFault, 'route'> => ({ code }),
};

export interface RecordedCall {
  route: RouteName | 'unknown';
  method: string;
  path: string;
  query: Record<string, string>;
  body: Record<string, unknown>;
  authorization?: string;
  /** Platform clock time of the call. */
  at: number;
  status: number;
  /** The Feishu code answered (0 on success); undefined for a hang, a cut socket or a non-JSON answer. */
  code?: number;
  faulted: boolean;
}

export interface PushMessageOptions {
  chat: FakeChat;
  from: Sender;
  /** For text and post: the text; mention placeholders (@_user_1, …) are put in front unless the text has them. */
  text?: string;
  /** Who is mentioned, in key order; `fake.bot` for the bot. */
  mentions?: Sender[];
  /** Default `text`; any other type gets realistic content (image_key, file_key, …) unless `content` is given. */
  messageType?: string;
  /** The content object itself, JSON-encoded by the fake. */
  content?: Record<string, unknown>;
  /** Post only: leave `message.mentions` empty, the mentions living only in the content's `at` elements. */
  mentionsInContentOnly?: boolean;
  /** Put the message in the thread of this root message (created by its first thread reply). */
  inThreadOf?: string;
  /** Quote-reply to this message (in its thread if it is in one). */
  replyTo?: string;
  eventId?: string;
  push?: PushOptions;
}

export interface PushedMessage {
  eventId: string;
  message: StoredMessage;
  envelope: Envelope;
}

export interface PressButtonOptions {
  /** The card message the button is on. */
  messageId: string;
  by: FakeUser;
  /** The button's visible label; its callback value is taken from the card as sent. */
  label?: string;
  /** The value to send instead of a label's (e.g. a forged or stale value). */
  value?: unknown;
  eventId?: string;
  push?: PushOptions;
}

const DEFAULT_CLIENT_CONFIG: ClientConfig = { PingInterval: 2, ReconnectCount: -1, ReconnectInterval: 1, ReconnectNonce: 0 };

export class FakeFeishu {
  /** The `domain` to give the SDK: every REST route and `/callback/ws/endpoint` live under it. */
  url = '';
  readonly appId: string;
  readonly appSecret: string;
  readonly tenantKey: string;
  /** The bot as a sender and a mention target; its open id is what `/bot/v3/info` answers. */
  readonly bot: FakeApp;

  private readonly server: Server;
  private readonly now: () => number;
  private readonly world: FeishuWorld;
  private readonly tokens: TenantTokens;
  private readonly ws: FakeLongConnection;
  private readonly recorded: RecordedCall[] = [];
  private faults: (FeishuFault & { left: number })[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private readonly listeners = new Set<() => void>();
  private nextEventId = 1;
  private closed = false;

  constructor(options: FakeFeishuOptions = {}) {
    this.appId = options.appId ?? FAKE_APP_ID;
    this.appSecret = options.appSecret ?? 'fake-app-secret';
    this.tenantKey = options.tenantKey ?? '736588c9260f175d';
    this.now = options.now ?? Date.now;
    this.world = new FeishuWorld({ appId: this.appId, tenantKey: this.tenantKey, now: this.now, ...(options.perChatQps !== undefined ? { perChatQps: options.perChatQps } : {}) });
    this.bot = { appId: this.appId, openId: this.world.user('bot').openId, name: options.botName ?? 'Tether Test Bot' };
    this.tokens = new TenantTokens(options.tokenExpireSeconds ?? 7200);
    this.ws = new FakeLongConnection({
      clientConfig: { ...DEFAULT_CLIENT_CONFIG, ...options.clientConfig },
      ...(options.redeliverAfterMs !== undefined ? { redeliverAfterMs: options.redeliverAfterMs } : {}),
      maxRedeliveries: options.maxRedeliveries ?? 4,
      onChange: () => this.notify(),
    });
    this.server = createServer((req, res) => void this.route(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => this.ws.handleUpgrade(req, socket, head));
  }

  async listen(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Ends sockets, hung requests and timers at once, then stops listening. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ws.shutdown();
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await done;
  }

  // ---------- test side: people, chats, what they do

  user(name: string): FakeUser {
    return this.world.user(name);
  }

  /** Another app (a different bot) that can write in groups. */
  otherApp(name: string): FakeApp {
    return this.world.app(name);
  }

  p2pChat(user: FakeUser): FakeChat {
    return this.world.p2pChat(user);
  }

  group(name: string, mode: Exclude<FakeChatMode, 'p2p'> = 'group'): FakeChat {
    return this.world.group(name, mode);
  }

  /** The bot leaves (or is removed from) a group: sends answer 230002. */
  removeBot(chat: FakeChat): void {
    this.world.setChatFlags(chat.chatId, { botInChat: false });
  }

  /** The group is muted for the bot: sends answer 230035. */
  mute(chat: FakeChat): void {
    this.world.setChatFlags(chat.chatId, { muted: true });
  }

  /** The person stops the bot from writing to them: sends answer 230053. */
  userBlocksBot(user: FakeUser): void {
    this.world.setChatFlags(this.world.p2pChat(user).chatId, { userBlockedBot: true });
  }

  /** A person recalls a message: replies to it answer 230011. */
  userRecalls(messageId: string): void {
    this.world.recallByUser(messageId);
  }

  /** A person (or another app) writes in a chat: the message is stored and its `im.message.receive_v1` pushed. */
  pushMessage(options: PushMessageOptions): PushedMessage {
    const type = options.messageType ?? 'text';
    const mentioned = options.mentions ?? [];
    const mentions = mentionsOf(mentioned, this.tenantKey);
    const content = options.content
      ? JSON.stringify(options.content)
      : type === 'text'
        ? textContent(options.text ?? '', mentions)
        : type === 'post'
          ? postContent(options.text ?? '', mentioned)
          : JSON.stringify((NON_TEXT_CONTENT[type] ?? (() => ({})))());
    const author = isApp(options.from) ? { kind: 'app' as const, app: options.from } : { kind: 'user' as const, user: options.from };
    const message = this.world.storeIncoming(options.chat.chatId, author, type, content, {
      ...(options.inThreadOf ? { inThreadOf: options.inThreadOf } : {}),
      ...(options.replyTo ? { replyTo: options.replyTo } : {}),
    }, mentions);
    const eventId = options.eventId ?? this.newEventId();
    const showMentions = mentions.length > 0 && !(type === 'post' && options.mentionsInContentOnly);
    const env = envelope(this.eventContext(eventId, message.createTime), 'im.message.receive_v1', {
      sender: senderOf(options.from, this.tenantKey),
      message: {
        message_id: message.messageId,
        ...(message.rootId ? { root_id: message.rootId } : {}),
        ...(message.parentId ? { parent_id: message.parentId } : {}),
        create_time: String(message.createTime),
        update_time: String(message.updateTime),
        chat_id: message.chatId,
        ...(message.threadId ? { thread_id: message.threadId } : {}),
        chat_type: options.chat.mode === 'p2p' ? 'p2p' : 'group',
        message_type: type,
        content,
        ...(showMentions ? { mentions } : {}),
        user_agent: 'Mozilla/5.0 (iPhone) Lark/7.30.0 fake',
      },
    });
    this.ws.push(env, options.push);
    return { eventId, message, envelope: env };
  }

  /** A person presses a button of a card the bot sent: `card.action.trigger` is pushed (as a `type=event` frame). */
  pressButton(options: PressButtonOptions): { eventId: string; envelope: Envelope } {
    const message = this.world.message(options.messageId);
    if (!message || message.msgType !== 'interactive') throw new Error(`fake feishu: ${options.messageId} is not a card`);
    const button = options.label !== undefined ? cardButtons(message.content).find((b) => b.label === options.label) : undefined;
    if (options.label !== undefined && !button) throw new Error(`fake feishu: no button "${options.label}" on ${options.messageId}; it has ${cardButtons(message.content).map((b) => b.label).join(', ')}`);
    const eventId = options.eventId ?? this.newEventId();
    const event = cardActionEvent(
      { operator: options.by, messageId: message.messageId, chatId: message.chatId, value: options.value ?? button?.value, tag: 'button', ...(button?.name ? { name: button.name } : {}) },
      this.tenantKey,
      `c-fake-${eventId}`,
    );
    const env = envelope(this.eventContext(eventId, this.now()), 'card.action.trigger', event);
    this.ws.push(env, options.push);
    return { eventId, envelope: env };
  }

  /** Any event the test builds itself (another type, a malformed one), wrapped in a schema 2.0 envelope and pushed. */
  pushEvent(eventType: string, event: Record<string, unknown>, options: { eventId?: string; push?: PushOptions } = {}): Envelope {
    const env = envelope(this.eventContext(options.eventId ?? this.newEventId(), this.now()), eventType, event);
    this.ws.push(env, options.push);
    return env;
  }

  /** Pushes an earlier event again, same event_id and body, as Feishu does when it saw no ack. */
  rePush(eventId: string, options: PushOptions = {}): void {
    const earlier = this.ws.pushes.find((p) => p.eventId === eventId);
    if (!earlier) throw new Error(`fake feishu: event ${eventId} was never pushed`);
    this.ws.push(earlier.envelope, options);
  }

  // ---------- test side: the long connection

  /** Off: pings are still recorded but never answered, a silent socket for watchdog tests. */
  setPongs(on: boolean): void {
    this.ws.pongsEnabled = on;
  }

  /** What the endpoint and later pongs hand out (a pong makes the SDK adopt it). */
  setClientConfig(config: Partial<ClientConfig>): void {
    Object.assign(this.ws.clientConfig, config);
  }

  get clientConfig(): ClientConfig {
    return { ...this.ws.clientConfig };
  }

  /** Pongs carry these values over the ClientConfig the endpoint handed out (which stays as it is). */
  setPongConfig(config: Partial<ClientConfig>): void {
    this.ws.pongOverrides = { ...config };
  }

  /** Events that will be pushed again unless an ack comes first (redeliverAfterMs set). */
  pendingRedeliveries(): number {
    return this.ws.pendingRedeliveries();
  }

  /** Cuts every long connection without a close frame; the SDK reconnects through the endpoint. */
  terminateConnections(): void {
    this.ws.terminateAll();
  }

  /** Closes every long connection with a close frame. */
  closeConnections(code = 1000, reason = 'server closing'): void {
    this.ws.closeAll(code, reason);
  }

  /** Connections open now (one per running WSClient). */
  openConnections(): WsConnection[] {
    return this.ws.openConnections();
  }

  /** Every connection ever opened, closed ones included. */
  connections(): WsConnection[] {
    return this.ws.connections();
  }

  pushes(): readonly PushRecord[] {
    return this.ws.pushes;
  }

  acks(): readonly AckRecord[] {
    return this.ws.acks;
  }

  /** The acks of one event, every push counted (a re-pushed event is acked once per push). */
  acksOf(eventId: string): AckRecord[] {
    return this.ws.acks.filter((a) => a.eventId === eventId);
  }

  /** Events pushed while no client was connected, waiting for one. */
  waitingEvents(): number {
    return this.ws.waitingEvents();
  }

  /** Frames the fake could not match (an ack for nothing, an undecodable frame). */
  strayFrames(): readonly unknown[] {
    return this.ws.strayFrames;
  }

  /** Resolves with the first ack of `eventId` (or the next one after `after` acks). */
  waitForAck(eventId: string, timeoutMs = 5000, after = 0): Promise<AckRecord> {
    return this.waitFor(() => this.acksOf(eventId)[after], timeoutMs, `ack ${after + 1} of event ${eventId}`);
  }

  // ---------- test side: tokens and faults

  /** How many tenant tokens were asked for. */
  tokenCalls(): number {
    return this.callCount('auth.tenantAccessToken');
  }

  /** How many times the ws endpoint was asked for a URL (once per connect and reconnect). */
  endpointCalls(): number {
    return this.callCount('ws.endpoint');
  }

  get currentToken(): string | undefined {
    return this.tokens.currentToken;
  }

  /**
   * The current tenant token stops working: calls carrying it answer 99991663 with `status` (400 by default;
   * 200 gives the shape the SDK resolves with), and the next token request gets the next t-fake-N.
   */
  invalidateToken(options: { status?: number } = {}): string | undefined {
    return this.tokens.invalidate(options.status);
  }

  /** Serves `fault` instead of the real answer to the next matching call(s). */
  fail(fault: FeishuFault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  /** Faults not yet served. */
  pendingFaults(): number {
    return this.faults.reduce((n, f) => n + f.left, 0);
  }

  // ---------- test side: observing

  get calls(): readonly RecordedCall[] {
    return this.recorded;
  }

  callsOf(route: RouteName): RecordedCall[] {
    return this.recorded.filter((c) => c.route === route);
  }

  callCount(route: RouteName): number {
    return this.callsOf(route).length;
  }

  /** The bot's messages in a chat as a person sees them, oldest first, recalled ones left out; `thread` narrows to one thread. */
  sent(chat: FakeChat | string, options: { thread?: string } = {}): StoredMessage[] {
    return this.messages(chat, options).filter((m) => m.author.kind === 'bot' && !m.recalled);
  }

  /** Every message of a chat (people's, other apps', the bot's, recalled ones too), oldest first. */
  messages(chat: FakeChat | string, options: { thread?: string } = {}): StoredMessage[] {
    const chatId = typeof chat === 'string' ? chat : chat.chatId;
    return this.world.messagesOf(chatId).filter((m) => options.thread === undefined || m.threadId === options.thread);
  }

  /** One message by id, wherever it is. */
  message(messageId: string): StoredMessage | undefined {
    return this.world.message(messageId);
  }

  /** Resolves when `predicate` holds, re-checked after every change of the fake and every 20 ms; rejects after `timeoutMs`. */
  waitFor<T>(predicate: () => T | undefined | false | null, timeoutMs = 10_000, what = 'condition'): Promise<T> {
    return waitForChange(this.listeners, predicate, timeoutMs, what, 'fake feishu');
  }

  // ---------- internals

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  private newEventId(): string {
    return `fake-evt-${(this.nextEventId++).toString(16).padStart(8, '0')}`;
  }

  private eventContext(eventId: string, createTime: number) {
    return { appId: this.appId, tenantKey: this.tenantKey, eventId, createTime };
  }

  private routeContext(): RouteContext {
    return {
      world: this.world,
      tokens: this.tokens,
      bot: this.bot,
      appSecret: this.appSecret,
      tenantKey: this.tenantKey,
      clientConfig: () => ({ ...this.ws.clientConfig }),
      issueWsUrl: () => this.ws.issueUrl(this.url.replace(/^http/, 'ws')),
    };
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const matched = matchRoute(req.method ?? 'GET', url.pathname);
    const apiReq: ApiRequest = {
      route: matched?.route.name ?? ('unknown' as RouteName),
      method: req.method ?? 'GET',
      path: url.pathname,
      params: matched?.params ?? {},
      query: Object.fromEntries(url.searchParams),
      body: {},
      bodyBytes: raw.length,
      headers: req.headers,
    };
    const record = (status: number, code: number | undefined, faulted: boolean) => {
      this.recorded.push({
        route: matched ? matched.route.name : 'unknown',
        method: apiReq.method,
        path: apiReq.path,
        query: apiReq.query,
        body: apiReq.body,
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        at: this.now(),
        status,
        ...(code !== undefined ? { code } : {}),
        faulted,
      });
      this.notify();
    };
    if (raw.length > 0) {
      try {
        apiReq.body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
      } catch {
        const answer = apiError(FEISHU_CODES.imInvalidParam, 'request body is not JSON');
        record(answer.status, FEISHU_CODES.imInvalidParam.code, false);
        return this.write(res, answer);
      }
    }
    if (!matched) {
      record(404, undefined, false);
      return this.write(res, { status: 404, body: '404 page not found' });
    }
    const fault = this.takeFault(apiReq);
    if (fault) return this.serveFault(fault, apiReq, req, res, record);
    let answer: ApiAnswer;
    try {
      if (matched.route.needsToken) this.tokens.check(req.headers.authorization);
      answer = matched.route.handle(apiReq, this.routeContext());
    } catch (err) {
      if (!(err instanceof FeishuApiError)) throw err;
      answer = apiError(err.row, err.message, matched.route.name);
    }
    record(answer.status, codeOf(answer.body), false);
    this.write(res, answer);
  }

  private takeFault(req: ApiRequest): (FeishuFault & { left: number }) | undefined {
    const fault = this.faults.find((f) => f.left > 0 && (f.route === '*' || f.route === req.route) && (f.when?.(req) ?? true));
    if (!fault) return undefined;
    fault.left--;
    this.faults = this.faults.filter((f) => f.left > 0);
    return fault;
  }

  private serveFault(fault: FeishuFault, apiReq: ApiRequest, req: IncomingMessage, res: ServerResponse, record: (status: number, code: number | undefined, faulted: boolean) => void): void {
    if (fault.network === 'destroy') {
      record(0, undefined, true);
      req.socket.destroy();
      return;
    }
    if (fault.network === 'hang') {
      record(0, undefined, true);
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    const row = typeof fault.code === 'number' ? (feishuCode(fault.code) ?? { code: fault.code, status: 200, msg: 'fault' }) : fault.code;
    const status = fault.status ?? row?.status ?? 500;
    const answer: ApiAnswer =
      fault.body !== undefined || !row
        ? { status, body: fault.body ?? 'Internal Server Error' }
        : { ...apiError({ ...row, status }, fault.msg ?? row.msg, apiReq.route) };
    if (fault.headers) answer.headers = fault.headers;
    record(status, codeOf(answer.body), true);
    this.write(res, answer);
  }

  private write(res: ServerResponse, answer: ApiAnswer): void {
    if (res.writableEnded || res.destroyed) return;
    const isText = typeof answer.body === 'string';
    res.writeHead(answer.status, { 'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8', ...answer.headers });
    res.end(isText ? (answer.body as string) : JSON.stringify(answer.body));
  }
}

function codeOf(body: unknown): number | undefined {
  return typeof body === 'object' && body !== null && typeof (body as { code?: unknown }).code === 'number' ? (body as { code: number }).code : undefined;
}

/** Starts a fake Feishu on 127.0.0.1 (a free port); `close()` it in afterEach. */
export async function startFakeFeishu(options: FakeFeishuOptions = {}): Promise<FakeFeishu> {
  return new FakeFeishu(options).listen();
}
