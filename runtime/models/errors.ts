// Model-provider failures as typed errors, and the pure rules that classify an HTTP answer or a network error.
import { TetherError } from '../../lib/errors.js';
import { shownUrl, withoutUrlCredentials } from '../../lib/shown-url.js';

export type ModelErrorCode =
  | 'provider_unauthorized'
  | 'provider_rate_limited'
  | 'provider_unavailable'
  | 'provider_bad_request'
  | 'provider_timeout'
  | 'provider_stream_broken'
  | 'provider_not_found';

export interface ModelErrorDetails {
  status?: number;
  /** Whether another attempt may succeed (only taken while nothing of the attempt reached onDelta). */
  retryable?: boolean;
  /** How long the provider asked us to wait before retrying (Retry-After), in ms. */
  retryAfterMs?: number;
}

/** A model call failed; the message is for a person and never contains the API key. */
export class ModelError extends TetherError {
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    override readonly code: ModelErrorCode,
    /** What went wrong, without the fix (the full message is "<sentence>: <fix>"). */
    readonly sentence: string,
    fix?: string,
    details: ModelErrorDetails = {},
  ) {
    super(code, sentence, fix);
    this.status = details.status;
    this.retryable = details.retryable ?? false;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** Who we talked to, for messages: enough to find the setting to fix. */
export interface ProviderIdentity {
  provider: string;
  /** As configured; messages show it through shownUrl (no userinfo, no query). */
  baseUrl: string;
  model: string;
  apiKeyVariable: string;
  hasKey: boolean;
}

const PROVIDER_MESSAGE_MAX = 300;

/** The provider's own error sentence from an OpenAI-style body ({error: {message}}, {message}, {detail}, or text). */
export function providerMessage(bodyText: string): string {
  let message = '';
  try {
    const parsed: unknown = JSON.parse(bodyText);
    message = findMessage(parsed) ?? '';
  } catch {
    // Not JSON: an HTML error page says little; plain text is kept.
    message = /<[a-z!]/i.test(bodyText) ? '' : bodyText;
  }
  message = withoutUrlCredentials(message).replace(/\s+/g, ' ').trim();
  return message.length > PROVIDER_MESSAGE_MAX ? `${message.slice(0, PROVIDER_MESSAGE_MAX)}…` : message;
}

function findMessage(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return findMessage(value[0]);
  if (!value || typeof value !== 'object') return undefined;
  const o = value as Record<string, unknown>;
  for (const key of ['error', 'message', 'detail', 'msg']) {
    const found = o[key] === undefined ? undefined : findMessage(o[key]);
    if (found) return found;
  }
  return undefined;
}

/** The provider's machine code (`insufficient_quota`, …) from an OpenAI-style body, if any. */
export function providerErrorCode(bodyText: string): string | undefined {
  try {
    const parsed = JSON.parse(bodyText) as { error?: { code?: unknown; type?: unknown } };
    const code = parsed.error?.code ?? parsed.error?.type;
    return typeof code === 'string' ? code : undefined;
  } catch {
    return undefined;
  }
}

function said(message: string): string {
  return message ? `: ${message}` : '';
}

/** Longest Retry-After we wait for inside one turn; longer asks fail at once with the time to come back. */
export const RETRY_AFTER_CAP_MS = 120_000;

/**
 * Turns a non-2xx answer into a ModelError. Pure: the caller passes the body text and the parsed
 * Retry-After. The 401/403 message deliberately ignores the body, which some providers fill with
 * part of the key.
 */
export function classifyHttpFailure(
  status: number,
  bodyText: string,
  who: ProviderIdentity,
  retryAfterMs: number | undefined,
  now: Date = new Date(),
  retryAfterCapMs = RETRY_AFTER_CAP_MS,
): ModelError {
  const base = shownUrl(who.baseUrl);
  const where = `the provider at ${base}`;
  const message = providerMessage(bodyText);
  if (status === 401 || status === 403) {
    if (!who.hasKey) {
      return new ModelError('provider_unauthorized', `${where} (${who.provider}) needs an API key and none is set (${status})`, `set ${who.apiKeyVariable}`, { status });
    }
    return new ModelError('provider_unauthorized', `the provider refused the API key (${status}) at ${base} (${who.provider})`, `check ${who.apiKeyVariable}`, { status });
  }
  if (status === 404) {
    return new ModelError(
      'provider_not_found',
      `${where} answered 404 for model ${JSON.stringify(who.model)}${said(message)}`,
      'check TETHER_MODEL (a model this provider serves) and TETHER_BASE_URL (the OpenAI-compatible root, usually ending in /v1)',
      { status },
    );
  }
  const retryable = status === 408 || status === 409 || status === 425 || status === 429 || status >= 500;
  if (!retryable) {
    return new ModelError('provider_bad_request', `${where} rejected the request (${status})${said(message)}`, 'check TETHER_MODEL and the provider’s limits; a shorter thread (/new) helps when the context is too long', { status });
  }
  const code = status === 429 ? 'provider_rate_limited' : 'provider_unavailable';
  if (status === 429 && providerErrorCode(bodyText) === 'insufficient_quota') {
    return new ModelError('provider_rate_limited', `${where} says the account has no quota left (429)${said(message)}`, 'add credit or raise the limit in the provider’s console', { status });
  }
  if (retryAfterMs !== undefined && retryAfterMs > retryAfterCapMs) {
    const when = new Date(now.getTime() + retryAfterMs);
    return new ModelError(code, `${where} asks to wait ${Math.ceil(retryAfterMs / 1000)} s before retrying (${status})`, `try again after ${when.toISOString().replace(/\.\d{3}Z$/, 'Z')}`, { status, retryAfterMs });
  }
  const what = status === 429 ? `is rate limiting requests (429)` : `is unavailable (${status})`;
  const fix = status === 429 ? 'wait a minute, or use a plan with higher limits' : 'the provider has trouble; try again later or switch TETHER_PROVIDER';
  return new ModelError(code, `${where} ${what}${said(message)}`, fix, { status, retryable: true, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
}

const REFUSED_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const BROKEN_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'HPE_INVALID_CHUNK_SIZE', 'ECONNABORTED']);

function errorCodeOf(err: unknown): string | undefined {
  let e: unknown = err;
  // undici wraps some socket errors; Node's fetch-style errors carry the real one in `cause`.
  for (let depth = 0; depth < 3 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export interface NetworkFailureTimeouts {
  headersTimeoutMs: number;
  idleTimeoutMs: number;
}

/**
 * Turns a thrown network error into a ModelError. `emitted` says whether any text of this attempt
 * reached onDelta: then a broken stream must not be retried, or the person would see text twice.
 */
export function classifyNetworkFailure(err: unknown, who: ProviderIdentity, emitted: boolean, timeouts: NetworkFailureTimeouts): ModelError {
  const base = shownUrl(who.baseUrl);
  if (err instanceof ModelError) {
    if (emitted && err.retryable) return new ModelError('provider_stream_broken', `the reply from ${base} broke off after it had started (${err.message})`, 'send the message again', { ...(err.status !== undefined ? { status: err.status } : {}) });
    return err;
  }
  const code = errorCodeOf(err) ?? 'unknown';
  const detail = withoutUrlCredentials(err instanceof Error ? err.message : String(err));
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new ModelError('provider_timeout', `the provider at ${base} sent no answer within ${Math.round(timeouts.headersTimeoutMs / 1000)} s`, 'check that the model server is running and not overloaded, or try again later');
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new ModelError('provider_timeout', `the provider at ${base} stalled: no data for ${Math.round(timeouts.idleTimeoutMs / 1000)} s in the middle of a reply`, 'try again; if it keeps happening the model server is overloaded');
  }
  if (emitted) {
    return new ModelError('provider_stream_broken', `the reply from ${base} broke off after it had started (${code})`, 'send the message again');
  }
  if (REFUSED_CODES.has(code)) {
    return new ModelError('provider_unavailable', `cannot reach the provider at ${base} (${code})`, 'check that the model server is running and TETHER_BASE_URL is right, and that this host can reach it', { retryable: true });
  }
  if (BROKEN_CODES.has(code)) {
    return new ModelError('provider_unavailable', `the provider at ${base} closed the connection (${code})`, 'try again later; if it keeps happening check the model server’s logs', { retryable: true });
  }
  return new ModelError('provider_unavailable', `the request to ${base} failed (${code}: ${detail})`, 'check TETHER_BASE_URL and the network', { retryable: false });
}
