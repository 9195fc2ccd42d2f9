// The fake's REST side: one row per open-platform route, each a plain function from a parsed request to Feishu's answer.
//
// Paths, bodies and answer shapes are those the SDK's Client and WSClient use (notes §1.3, §3.1, §6.2): the tenant
// token endpoint, `/callback/ws/endpoint` (outside /open-apis, capitalised {AppID, AppSecret}), bot info, chat
// info, message create/reply/update/patch/delete and reactions. Faults are applied before a row runs, by the caller.
import type { IncomingHttpHeaders } from 'node:http';
import { FEISHU_CODES, FeishuApiError, type FeishuCode } from './codes.js';
import type { FakeApp } from './events.js';
import type { ClientConfig } from './long-connection.js';
import type { FeishuWorld, StoredMessage } from './world.js';

export type RouteName =
  | 'auth.tenantAccessToken'
  | 'ws.endpoint'
  | 'bot.info'
  | 'chat.get'
  | 'message.create'
  | 'message.reply'
  | 'message.update'
  | 'message.patch'
  | 'message.delete'
  | 'reaction.create'
  | 'reaction.delete';

export interface ApiRequest {
  route: RouteName;
  method: string;
  path: string;
  /** Path parameters by name (message_id, chat_id, reaction_id). */
  params: Record<string, string>;
  query: Record<string, string>;
  body: Record<string, unknown>;
  /** Size of the raw request body, what the 150 KB / 30 KB limits are checked against. */
  bodyBytes: number;
  headers: IncomingHttpHeaders;
}

export interface ApiAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** What the routes need from the fake around them. */
export interface RouteContext {
  world: FeishuWorld;
  tokens: TenantTokens;
  bot: FakeApp;
  appSecret: string;
  tenantKey: string;
  clientConfig: () => ClientConfig;
  issueWsUrl: () => string;
}

interface Route {
  name: RouteName;
  method: string;
  pattern: RegExp;
  /** Routes under /open-apis other than the token endpoint need `Authorization: Bearer <tenant token>`. */
  needsToken: boolean;
  handle: (req: ApiRequest, ctx: RouteContext) => ApiAnswer;
}

/** Tenant tokens t-fake-1, t-fake-2, …: the same one is handed out until it is invalidated, as Feishu does while >30 min remain. */
export class TenantTokens {
  private issued = 0;
  private current: string | undefined;
  private readonly invalid = new Set<string>();
  private invalidStatus: number = FEISHU_CODES.invalidTenantToken.status;

  constructor(private readonly expireSeconds: number) {}

  issue(): { token: string; expire: number } {
    if (!this.current) this.current = `t-fake-${++this.issued}`;
    return { token: this.current, expire: this.expireSeconds };
  }

  /** The current token stops working: calls carrying it answer 99991663 (with `status`), the next token call mints a new one. */
  invalidate(status: number = FEISHU_CODES.invalidTenantToken.status): string | undefined {
    const was = this.current;
    if (was) this.invalid.add(was);
    this.current = undefined;
    this.invalidStatus = status;
    return was;
  }

  get currentToken(): string | undefined {
    return this.current;
  }

  check(authorization: string | undefined): void {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (!token) throw new FeishuApiError(FEISHU_CODES.missingToken);
    const known = token.startsWith('t-fake-') && Number(token.slice('t-fake-'.length)) <= this.issued;
    if (!known || this.invalid.has(token)) throw new FeishuApiError({ ...FEISHU_CODES.invalidTenantToken, status: this.invalidStatus });
  }
}

const ok = (data: unknown): ApiAnswer => ({ status: 200, body: { code: 0, msg: 'success', data } });
const str = (v: unknown) => (typeof v === 'string' ? v : '');

/** A message as the send, reply and update answers carry it. */
export function messageData(m: StoredMessage, ctx: Pick<RouteContext, 'bot' | 'tenantKey'>): Record<string, unknown> {
  return {
    message_id: m.messageId,
    ...(m.rootId ? { root_id: m.rootId } : {}),
    ...(m.parentId ? { parent_id: m.parentId, upper_message_id: m.parentId } : {}),
    ...(m.threadId ? { thread_id: m.threadId } : {}),
    msg_type: m.msgType,
    create_time: String(m.createTime),
    update_time: String(m.updateTime),
    deleted: m.recalled,
    updated: m.history.length > 1,
    chat_id: m.chatId,
    sender: { id: ctx.bot.appId, id_type: 'app_id', sender_type: 'app', tenant_key: ctx.tenantKey },
    body: { content: m.content },
  };
}

const ROUTES: Route[] = [
  {
    name: 'auth.tenantAccessToken',
    method: 'POST',
    pattern: /^\/open-apis\/auth\/v3\/tenant_access_token\/internal$/,
    needsToken: false,
    handle: (req, ctx) => {
      const { app_id, app_secret } = req.body;
      if (!app_id || !app_secret) return { status: 200, body: { code: FEISHU_CODES.invalidParam.code, msg: FEISHU_CODES.invalidParam.msg } };
      if (app_id !== ctx.bot.appId || app_secret !== ctx.appSecret) return { status: 200, body: { code: FEISHU_CODES.appSecretInvalid.code, msg: FEISHU_CODES.appSecretInvalid.msg } };
      const { token, expire } = ctx.tokens.issue();
      return { status: 200, body: { code: 0, msg: 'ok', tenant_access_token: token, expire } };
    },
  },
  {
    name: 'ws.endpoint',
    method: 'POST',
    pattern: /^\/callback\/ws\/endpoint$/,
    needsToken: false,
    handle: (req, ctx) => {
      // Wrong credentials: 514 (ws-client/enum.ts auth_failed), fatal for the SDK.
      if (req.body.AppID !== ctx.bot.appId || req.body.AppSecret !== ctx.appSecret) return endpointError(FEISHU_CODES.authFailed);
      return { status: 200, body: { code: 0, msg: 'ok', data: { URL: ctx.issueWsUrl(), ClientConfig: ctx.clientConfig() } } };
    },
  },
  {
    name: 'bot.info',
    method: 'GET',
    pattern: /^\/open-apis\/bot\/v3\/info\/?$/,
    needsToken: true,
    handle: (_req, ctx) => ({ status: 200, body: { code: 0, msg: 'ok', bot: { activate_status: 2, app_name: ctx.bot.name, avatar_url: '', ip_white_list: [], open_id: ctx.bot.openId } } }),
  },
  {
    name: 'chat.get',
    method: 'GET',
    pattern: /^\/open-apis\/im\/v1\/chats\/(?<chat_id>[^/]+)$/,
    needsToken: true,
    handle: (req, ctx) => {
      const state = ctx.world.knownChat(req.params.chat_id ?? '');
      if (!state) throw new FeishuApiError(FEISHU_CODES.invalidChatId);
      if (!state.botInChat) throw new FeishuApiError(FEISHU_CODES.botOutOfChat);
      const { chat } = state;
      return ok({
        avatar: '',
        name: chat.mode === 'p2p' ? '' : chat.name,
        description: '',
        owner_id_type: 'open_id',
        owner_id: state.user?.openId ?? '',
        chat_mode: chat.mode,
        chat_type: 'private',
        chat_tag: 'inner',
        external: false,
        tenant_key: ctx.tenantKey,
        user_count: '1',
        bot_count: '1',
      });
    },
  },
  {
    name: 'message.create',
    method: 'POST',
    pattern: /^\/open-apis\/im\/v1\/messages$/,
    needsToken: true,
    handle: (req, ctx) => {
      const { receive_id, msg_type, content, uuid } = req.body;
      const m = ctx.world.create(req.query.receive_id_type ?? '', str(receive_id), str(msg_type), str(content), optionalString(uuid), req.bodyBytes);
      return ok(messageData(m, ctx));
    },
  },
  {
    name: 'message.reply',
    method: 'POST',
    pattern: /^\/open-apis\/im\/v1\/messages\/(?<message_id>[^/]+)\/reply$/,
    needsToken: true,
    handle: (req, ctx) => {
      const { msg_type, content, reply_in_thread, uuid } = req.body;
      const m = ctx.world.reply(req.params.message_id ?? '', str(msg_type), str(content), reply_in_thread === true, optionalString(uuid), req.bodyBytes);
      return ok(messageData(m, ctx));
    },
  },
  {
    name: 'message.update',
    method: 'PUT',
    pattern: /^\/open-apis\/im\/v1\/messages\/(?<message_id>[^/]+)$/,
    needsToken: true,
    handle: (req, ctx) => ok(messageData(ctx.world.update(req.params.message_id ?? '', str(req.body.msg_type), str(req.body.content), req.bodyBytes), ctx)),
  },
  {
    name: 'message.patch',
    method: 'PATCH',
    pattern: /^\/open-apis\/im\/v1\/messages\/(?<message_id>[^/]+)$/,
    needsToken: true,
    handle: (req, ctx) => {
      ctx.world.patch(req.params.message_id ?? '', str(req.body.content), req.bodyBytes);
      return ok({});
    },
  },
  {
    name: 'message.delete',
    method: 'DELETE',
    pattern: /^\/open-apis\/im\/v1\/messages\/(?<message_id>[^/]+)$/,
    needsToken: true,
    handle: (req, ctx) => {
      ctx.world.recall(req.params.message_id ?? '');
      return ok({});
    },
  },
  {
    name: 'reaction.create',
    method: 'POST',
    pattern: /^\/open-apis\/im\/v1\/messages\/(?<message_id>[^/]+)\/reactions$/,
    needsToken: true,
    handle: (req, ctx) => {
      const type = req.body.reaction_type as { emoji_type?: unknown } | undefined;
      const r = ctx.world.addReaction(req.params.message_id ?? '', str(type?.emoji_type));
      return ok(reactionData(r.reactionId, r.emojiType, ctx));
    },
  },
  {
    name: 'reaction.delete',
    method: 'DELETE',
    pattern: /^\/open-apis\/im\/v1\/messages\/(?<message_id>[^/]+)\/reactions\/(?<reaction_id>[^/]+)$/,
    needsToken: true,
    handle: (req, ctx) => {
      const r = ctx.world.removeReaction(req.params.message_id ?? '', req.params.reaction_id ?? '');
      return ok(reactionData(r.reactionId, r.emojiType, ctx));
    },
  },
];

function reactionData(reactionId: string, emojiType: string, ctx: RouteContext): Record<string, unknown> {
  return { reaction_id: reactionId, operator: { operator_id: ctx.bot.appId, operator_type: 'app' }, action_time: String(Date.now()), reaction_type: { emoji_type: emojiType } };
}

function optionalString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The endpoint's error body keeps `data`: the SDK destructures it before reading `code`, so without it any code would look retryable. */
export function endpointError(row: FeishuCode, msg = row.msg): ApiAnswer {
  return { status: row.status, body: { code: row.code, msg, data: {} } };
}

/** The body of an IM/REST error as the open platform sends it. */
export function apiError(row: FeishuCode, msg = row.msg, route?: RouteName): ApiAnswer {
  if (route === 'ws.endpoint') return endpointError(row, msg);
  return { status: row.status, body: { code: row.code, msg, error: { log_id: `fake-log-${Date.now()}` } } };
}

/** The row for `method path`, with its path parameters; undefined for a path the platform does not have. */
export function matchRoute(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const m = route.pattern.exec(path);
    if (m) return { route, params: { ...(m.groups ?? {}) } };
  }
  return undefined;
}

export type { Route };
