// The one door to @larksuiteoapi/node-sdk: a REST Client with its own token cache and timeouts, WSClients, and the SDK's logs in ours.
import * as lark from '@larksuiteoapi/node-sdk';
import type { Logger } from '../../lib/log.js';

export { lark };

/** The SDK's axios instance has no timeout at all (notes §1.8 #8): a half-open socket would hang a send forever. */
export const REST_TIMEOUT_MS = 15_000;
/** Longest part of an SDK log line we keep (its errors can carry a whole axios config). */
const SDK_LOG_MAX = 400;

type HttpOptions = Parameters<lark.Client['httpInstance']['request']>[0];

/** The SDK's own axios instance, with a timeout on every request that does not set one. */
export function httpWithTimeout(timeoutMs: number): lark.Client['httpInstance'] {
  const base = lark.defaultHttpInstance;
  const withTimeout = <D>(opts: HttpOptions | undefined): HttpOptions => ({ ...(opts ?? {}), timeout: (opts as { timeout?: number } | undefined)?.timeout ?? timeoutMs }) as HttpOptions & { data?: D };
  return {
    request: (opts) => base.request(withTimeout(opts)),
    get: (url, opts) => base.get(url, withTimeout(opts)),
    delete: (url, opts) => base.delete(url, withTimeout(opts)),
    head: (url, opts) => base.head(url, withTimeout(opts)),
    options: (url, opts) => base.options(url, withTimeout(opts)),
    post: (url, data, opts) => base.post(url, data, withTimeout(opts)),
    put: (url, data, opts) => base.put(url, data, withTimeout(opts)),
    patch: (url, data, opts) => base.patch(url, data, withTimeout(opts)),
  } as lark.Client['httpInstance'];
}

/** One SDK log call as one short line: it logs arrays of strings and objects. */
function sdkLine(parts: unknown[]): string {
  const flat = parts.flat().map((p) => (typeof p === 'string' ? p : p instanceof Error ? p.message : safeJson(p)));
  const line = flat.join(' ');
  return line.length > SDK_LOG_MAX ? `${line.slice(0, SDK_LOG_MAX)}…` : line;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

export interface SdkLogOptions {
  /** Each line as the SDK wrote it, before it is logged (the connection watches it for signs of life). */
  onLine?: (line: string) => void;
  /** SDK errors are logged at debug: the bridge logs what it makes of a failure itself (the REST client). */
  quietErrors?: boolean;
}

/**
 * The SDK's logger interface over ours: every line passes our redaction (the SDK logs the
 * websocket URL with its access_key and ticket at debug level, and axios errors with the bearer
 * token), and an event's body (a person's message) is never logged.
 */
export function sdkLogger(logger: Logger, options: SdkLogOptions = {}): lark.Logger {
  const out = (level: 'debug' | 'info' | 'warn') => (...parts: unknown[]) => {
    let line = sdkLine(parts);
    options.onLine?.(line);
    if (line.includes('receive message')) line = line.replace(/; data: .*$/s, '; data: (not logged)');
    logger[level](line);
  };
  return {
    error: out(options.quietErrors ? 'debug' : 'warn'),
    warn: out(options.quietErrors ? 'debug' : 'warn'),
    // Its info lines (a console tour at every start, "reconnect") repeat what the bridge logs itself.
    info: out('debug'),
    debug: out('debug'),
    trace: out('debug'),
  };
}

export interface RestClient {
  client: lark.Client;
  /** Forgets the cached tenant token, so the next call fetches a new one. */
  dropToken(): Promise<void>;
}

/**
 * A Client with a cache of its own: the SDK's default one is process-global (notes §6.4), so two
 * clients (or a test's fakes) would share a token.
 */
export function createRestClient(o: { appId: string; appSecret: string; domain: string; logger: Logger; timeoutMs?: number }): RestClient {
  const cache = new lark.DefaultCache();
  const client = new lark.Client({
    appId: o.appId,
    appSecret: o.appSecret,
    domain: o.domain,
    cache,
    httpInstance: httpWithTimeout(o.timeoutMs ?? REST_TIMEOUT_MS),
    logger: sdkLogger(o.logger, { quietErrors: true }),
    loggerLevel: lark.LoggerLevel.warn,
  });
  return {
    client,
    async dropToken() {
      // An expire of 0 reads back as "" and the SDK fetches a new token when the cached one is falsy.
      await cache.set(lark.CTenantAccessToken, '', 0, { namespace: o.appId });
    },
  };
}
