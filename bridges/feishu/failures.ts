// Feishu errors → one typed error from either shape the SDK produces, then → the core's DeliveryFailure by a table.
import { TetherError } from '../../lib/errors.js';
import type { DeliveryFailure } from '../core/adapter.js';

/**
 * A refused or failed open-platform call. The SDK gives two shapes (notes §4.3): HTTP 200 with
 * `{code != 0, msg}` resolves, any other status rejects with an AxiosError whose `response.data`
 * holds the code; a failed token fetch is a plain Error naming the code in its message. All three
 * end up here, with the code, the status and the rate limiter's reset time when there is one.
 */
export class FeishuApiError extends TetherError {
  constructor(
    /** The call, for logs: `message.reply`, `bot.info`… */
    readonly call: string,
    /** Feishu's own code; undefined when no answer came (network, timeout) or it was not JSON. */
    readonly feishuCode: number | undefined,
    /** HTTP status; undefined when no answer came. */
    readonly status: number | undefined,
    readonly detail: string,
    /** `x-ogw-ratelimit-reset`, seconds, on a rate-limited answer. */
    readonly resetSeconds?: number,
  ) {
    super('feishu_api', `${call}: ${feishuCode !== undefined ? `code ${feishuCode}` : status !== undefined ? `HTTP ${status}` : 'no answer'} ${detail}`.trim());
  }
}

/** Tenant token dead or missing: drop the cached token and try the call once more (the SDK never does; notes §4.3). */
export const TOKEN_CODES: ReadonlySet<number> = new Set([99991663, 99991664, 99991661]);
/** The message a reply quotes was recalled or is gone: send it as a plain message into the same conversation. */
export const REPLY_TARGET_GONE_CODES: ReadonlySet<number> = new Set([230011, 231003]);
/** The token endpoint refused the app's credentials (10003 invalid param: app id; 10014: app secret). */
export const CREDENTIAL_CODES: ReadonlySet<number> = new Set([10003, 10014]);

export const CREDENTIALS_FIX = 'copy FEISHU_APP_ID and FEISHU_APP_SECRET again from the app\'s Credentials & Basic Info page (and check FEISHU_DOMAIN: feishu or lark); see docs/feishu.md';

type AxiosLike = { isAxiosError?: boolean; code?: string; message?: string; response?: { status?: number; data?: unknown; headers?: Record<string, unknown> } };

function numberOr(v: unknown): number | undefined {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** The error of a resolved `{code != 0}` answer. */
export function errorOfAnswer(call: string, body: { code?: unknown; msg?: unknown }): FeishuApiError {
  return new FeishuApiError(call, numberOr(body.code), 200, typeof body.msg === 'string' ? body.msg : '');
}

/** Whatever a call threw, as a FeishuApiError (never carrying the request, whose headers hold the token). */
export function errorOfThrown(call: string, err: unknown): FeishuApiError {
  if (err instanceof FeishuApiError) return err;
  const e = (err ?? {}) as AxiosLike;
  if (e.response) {
    const data = (typeof e.response.data === 'object' && e.response.data !== null ? e.response.data : {}) as { code?: unknown; msg?: unknown };
    const reset = numberOr(e.response.headers?.['x-ogw-ratelimit-reset']);
    return new FeishuApiError(call, numberOr(data.code), e.response.status, typeof data.msg === 'string' ? data.msg : 'not a Feishu answer', reset);
  }
  // The SDK's token fetch: "failed to get tenant_access_token, code: 10014, msg: app secret invalid".
  const token = /failed to get tenant_access_token, code: (\d+), msg: (.*)$/.exec(e.message ?? '');
  if (token) return new FeishuApiError('auth.tenantAccessToken', Number(token[1]), 200, token[2] ?? '');
  const why = e.code ?? (err instanceof Error ? err.name : 'error');
  return new FeishuApiError(call, undefined, undefined, `network error (${why})`);
}

const gone = (reason: string) => (): DeliveryFailure => ({ kind: 'gone', reason });

/** Codes with a meaning of their own for a send; everything else is decided by the status below. */
const BY_CODE: Record<number, (e: FeishuApiError) => DeliveryFailure> = {
  // The app-level limiter (HTTP 429, or 400 on old APIs): wait what it says, then the same request.
  99991400: (e) => ({ kind: 'retry_after', seconds: Math.max(1, Math.ceil(e.resetSeconds ?? 1)) }),
  // The per-chat limiter (5 QPS per user or group, shared by every bot in it).
  230020: () => ({ kind: 'retry_after', seconds: 1 }),
  230025: () => ({ kind: 'too_long' }),
  230002: gone('the bot is not in this chat (230002)'),
  230053: gone('the person stopped the bot from messaging them (230053)'),
  230035: gone('the bot may not speak in this chat (230035)'),
  10003: (e) => ({ kind: 'fatal', reason: `Feishu refused the app credentials (code ${e.feishuCode} ${e.detail}): ${CREDENTIALS_FIX}` }),
  10014: (e) => ({ kind: 'fatal', reason: `Feishu refused the app credentials (code ${e.feishuCode} ${e.detail}): ${CREDENTIALS_FIX}` }),
};

/** What the core should do about a failed send. */
export function classifyFeishuFailure(e: FeishuApiError): DeliveryFailure {
  const byCode = e.feishuCode !== undefined ? BY_CODE[e.feishuCode] : undefined;
  if (byCode) return byCode(e);
  if (e.status === 429) return { kind: 'retry_after', seconds: Math.max(1, Math.ceil(e.resetSeconds ?? 1)) };
  if (e.status === undefined || e.status >= 500) return { kind: 'transient' };
  // A token still refused after a fresh one was fetched: the platform's token service is having trouble.
  if (e.feishuCode !== undefined && TOKEN_CODES.has(e.feishuCode)) return { kind: 'transient' };
  // Any other 4xx is about this one message (bad content, a missing scope named in msg): it would fail again.
  return { kind: 'rejected', reason: e.message };
}
