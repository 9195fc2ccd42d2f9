// The fetch grammY's web build calls, on node:http/node:https with one keep-alive pool per process (neither the undici package nor Node's global fetch: 19 and 12 MB resident).
import { createHttpAgents, sendHttpRequest, type HttpRequestBody } from '../../lib/http.js';

/** Long enough to keep the poll's and the sends' connections warm between bursts (the send budget counts on warm ones). */
const KEEP_ALIVE_IDLE_MS = 10_000;
/** undici's default, which the bridge had before; a whole call is bounded by grammY's timeoutSeconds. */
const CONNECT_TIMEOUT_MS = 10_000;
/**
 * Longest wait for an answer to any method but getUpdates (a long poll, which grammY times), so a
 * half-open socket does not hold a send slot for all of grammY's timeoutSeconds. Counted from the
 * request, so it also bounds sending the body: fine for JSON (the bridge uploads nothing).
 */
const HEADERS_TIMEOUT_MS = 30_000;
/** Telegram's answers are small (a getUpdates batch of 100 long messages is a few MB); a larger one is not Telegram. */
const MAX_BODY_BYTES = 32 * 1024 * 1024;
/**
 * Methods safe to send twice, retried once on a kept-alive socket found dead (lib/http): getUpdates
 * with an offset answers the same updates again. Never a send: the core resends those itself,
 * knowing whether they went out, and a blind repeat could post a message twice.
 */
const IDEMPOTENT_METHODS = new Set(['getUpdates']);

const agents = createHttpAgents({ idleMs: KEEP_ALIVE_IDLE_MS });

/** What grammY passes: `{ method, headers, body, signal, duplex }` (duplex is for WHATWG streams and means nothing here). */
export interface BotApiFetchInit {
  method?: string;
  headers?: Record<string, string> | Iterable<readonly [string, string]>;
  body?: unknown;
  signal?: AbortSignal | null;
}

/** The part of a WHATWG Response grammY reads: `json()`; status and statusText name a failed answer in grammY's HttpError. */
export interface BotApiResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  json(): Promise<unknown>;
  text(): Promise<string>;
}

/** An answer that is not JSON (a proxy's error page, a wrong TELEGRAM_API_ROOT); grammY wraps it in HttpError. */
export class BotApiAnswerError extends Error {
  constructor(
    readonly status: number,
    readonly statusText: string,
  ) {
    super(`the Bot API answered HTTP ${status}${statusText ? ` ${statusText}` : ''} with a body that is not JSON`);
    this.name = 'BotApiAnswerError';
  }
}

export type BotApiFetch = (url: string | URL, init?: BotApiFetchInit) => Promise<BotApiResponse>;

/** A fetch on the process's pool; the options are for tests (the bridge uses botApiFetch's). */
export function createBotApiFetch(options: { headersTimeoutMs?: number; maxBodyBytes?: number } = {}): BotApiFetch {
  const headersTimeoutMs = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS;
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  return async (url, init = {}) => {
    const target = typeof url === 'string' ? new URL(url) : url;
    // grammY asks for `<root>/bot<token>/<method>`.
    const method = target.pathname.slice(target.pathname.lastIndexOf('/') + 1);
    const res = await sendHttpRequest(target, {
      method: init.method ?? 'GET',
      headers: headerRecord(init.headers),
      body: requestBody(init.body),
      signal: init.signal ?? undefined,
      agents,
      idempotent: IDEMPOTENT_METHODS.has(method),
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      ...(method === 'getUpdates' ? {} : { headersTimeoutMs }),
      maxBodyBytes,
    });
    const { status, statusText } = res;
    return {
      ok: status >= 200 && status < 300,
      status,
      statusText,
      text: () => res.text(),
      async json() {
        const text = await res.text();
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new BotApiAnswerError(status, statusText);
        }
      },
    };
  };
}

export const botApiFetch: BotApiFetch = createBotApiFetch();

function headerRecord(headers: BotApiFetchInit['headers']): Record<string, string> | undefined {
  if (headers === undefined) return undefined;
  if (Symbol.iterator in headers) return Object.fromEntries(headers);
  return headers;
}

/** grammY sends JSON as a string; an upload (which the bridge never makes) is a stream of bytes, streamed as it comes. */
function requestBody(body: unknown): HttpRequestBody | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (typeof body === 'object' && Symbol.asyncIterator in body) return body as AsyncIterable<Uint8Array>;
  throw new TypeError(`botApiFetch sends a string, bytes or a stream of bytes, not ${Object.prototype.toString.call(body)}`);
}
