// One HTTP request on node:http (node:https for https URLs) with connect, headers and body-silence timeouts and an AbortSignal; the bridges' transport.
import http from 'node:http';
import type * as https from 'node:https';
import { Readable } from 'node:stream';

/**
 * Why node:http and not the undici package: undici costs a bridge about 19 MB resident and Node's
 * global fetch about 12 MB (it loads Node's bundled undici), against about 2 MB for node:http; a
 * bridge makes a few simple requests and reads JSON or an event stream.
 */

export type TimeoutPhase = 'connect' | 'headers' | 'body';

const TIMEOUT_TEXT: Record<TimeoutPhase, (ms: number) => string> = {
  connect: (ms) => `no connection within ${ms} ms`,
  headers: (ms) => `no response within ${ms} ms`,
  body: (ms) => `the response went silent for ${ms} ms`,
};

/** No connection, no response headers, or a body silent for longer than allowed. Never names the URL. */
export class HttpTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(
    readonly phase: TimeoutPhase,
    readonly ms: number,
  ) {
    super(TIMEOUT_TEXT[phase](ms));
    this.name = 'HttpTimeoutError';
  }
}

/** Keep-alive connection pools, one per protocol, made on first use (node:https is loaded only for an https URL). */
export interface HttpAgents {
  for(url: URL): http.Agent;
  /** Closes every connection, in use or idle. */
  destroy(): void;
}

export function createHttpAgents(options: { idleMs: number }): HttpAgents {
  // `timeout` is how long an idle socket stays in the pool; a server's shorter Keep-Alive hint wins.
  const settings = { keepAlive: true, timeout: options.idleMs };
  let plain: http.Agent | undefined;
  let secure: https.Agent | undefined;
  return {
    for(url) {
      if (url.protocol === 'http:') return (plain ??= new http.Agent(settings));
      if (url.protocol === 'https:') return (secure ??= new (loadHttps().Agent)(settings));
      throw new TypeError(`unsupported protocol ${url.protocol} (http: or https: expected)`);
    },
    destroy() {
      plain?.destroy();
      secure?.destroy();
    },
  };
}

function loadHttps(): typeof https {
  return process.getBuiltinModule('node:https');
}

export type HttpRequestBody = string | Uint8Array | AsyncIterable<Uint8Array>;

export interface HttpRequestOptions {
  method: string;
  headers?: Record<string, string>;
  /** A string or bytes are sent with a Content-Length; an async iterable is streamed (chunked). */
  body?: HttpRequestBody;
  agents: HttpAgents;
  /** Aborting destroys the request or the response at once; the pending call or read rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** From asking for a socket to connected (DNS and TCP); a reused keep-alive socket skips it. */
  connectTimeoutMs?: number;
  /** From sending the request to the response's headers. */
  headersTimeoutMs?: number;
  /** Longest silence while the body is being read; the time a reader spends between reads does not count. */
  bodyIdleTimeoutMs?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: http.IncomingHttpHeaders;
  /** The body in chunks, once; rejects with HttpTimeoutError('body') on silence, with `signal.reason` on abort. */
  chunks(): AsyncGenerator<Buffer, void, undefined>;
  /** The whole body as UTF-8 text. */
  text(): Promise<string>;
}

/** Resolves once the response's headers are in; the body is read from the answer. */
export function sendHttpRequest(url: string | URL, o: HttpRequestOptions): Promise<HttpResponse> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const signal = o.signal;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise<HttpResponse>((resolve, reject) => {
    const transport = target.protocol === 'https:' ? loadHttps() : http;
    const req = transport.request(target, { method: o.method, headers: o.headers, agent: o.agents.for(target) });
    let res: http.IncomingMessage | undefined;
    const timers: NodeJS.Timeout[] = [];
    const fail = (err: Error) => (res ? res.destroy(err) : req.destroy(err));
    const onAbort = () => fail(abortReason(signal!));
    const done = () => {
      for (const t of timers) clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('close', done);
    // Before the response the error rejects the call; after it, it ends the body's reader.
    req.on('error', (err) => (res ? res.destroy(err) : (done(), reject(err))));

    if (o.headersTimeoutMs !== undefined) {
      const ms = o.headersTimeoutMs;
      timers.push(setTimeout(() => req.destroy(new HttpTimeoutError('headers', ms)), ms));
    }
    if (o.connectTimeoutMs !== undefined) {
      const ms = o.connectTimeoutMs;
      req.once('socket', (socket) => {
        if (!socket.connecting) return;
        const t = setTimeout(() => req.destroy(new HttpTimeoutError('connect', ms)), ms);
        timers.push(t);
        socket.once('connect', () => clearTimeout(t));
      });
    }

    req.once('response', (incoming) => {
      res = incoming;
      // From here the response's end or destruction ends the request's life.
      req.off('close', done);
      for (const t of timers.splice(0)) clearTimeout(t);
      incoming.once('close', done);
      // A reader that never started must not leave an unhandled 'error' behind.
      incoming.on('error', () => {});
      resolve(wrapResponse(incoming, o.bodyIdleTimeoutMs));
    });

    const body = o.body;
    if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) req.end(body);
    else
      Readable.from(body)
        .on('error', (err) => req.destroy(err))
        .pipe(req);
  });
}

function wrapResponse(res: http.IncomingMessage, idleMs: number | undefined): HttpResponse {
  let taken = false;
  async function* chunks(): AsyncGenerator<Buffer, void, undefined> {
    if (taken) throw new Error('the response body was already read');
    taken = true;
    const it = res[Symbol.asyncIterator]();
    let silence: NodeJS.Timeout | undefined;
    try {
      for (;;) {
        // Timed only while waiting for the server: a slow reader is not a silent server.
        if (idleMs !== undefined) silence = setTimeout(() => res.destroy(new HttpTimeoutError('body', idleMs)), idleMs);
        const next = await it.next();
        clearTimeout(silence);
        if (next.done) return;
        yield next.value as Buffer;
      }
    } finally {
      clearTimeout(silence);
      if (!res.complete) res.destroy();
    }
  }
  return {
    status: res.statusCode ?? 0,
    statusText: res.statusMessage ?? '',
    headers: res.headers,
    chunks,
    async text() {
      const parts: Buffer[] = [];
      for await (const chunk of chunks()) parts.push(chunk);
      return Buffer.concat(parts).toString('utf8');
    },
  };
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return Object.assign(new Error('the request was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}
