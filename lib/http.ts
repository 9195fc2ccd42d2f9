// One HTTP request on node:http (node:https for https URLs) with connect, headers and body-silence timeouts, a body size limit, an AbortSignal and one retry on a stale kept-alive socket; the bridges' transport.
import http from 'node:http';
import type * as https from 'node:https';
import { pipeline, Readable } from 'node:stream';

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
  /**
   * Whether sending the request twice does no harm; default true for GET and HEAD only. A kept-alive
   * socket the server closed just as the request went out fails with ECONNRESET or EPIPE before any
   * answer; such a request is then sent once more, on a fresh connection, if it is idempotent and its
   * body a string or bytes (a stream cannot be sent again).
   */
  idempotent?: boolean;
  /** From asking for a socket to connected (DNS, TCP and, for https, the TLS handshake); a reused keep-alive socket skips it. */
  connectTimeoutMs?: number;
  /** From sending the request to the response's headers. */
  headersTimeoutMs?: number;
  /** Longest silence while the body is being read; the time a reader spends between reads does not count. */
  bodyIdleTimeoutMs?: number;
  /** Largest body read: a larger Content-Length fails the read before it starts, a longer body once it passes this. */
  maxBodyBytes?: number;
}

/**
 * The body must be read to its end (`text()`, or `chunks()` until done) or dropped with
 * `cancel()`: until then it holds its socket and the abort listener on `signal`.
 */
export interface HttpResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: http.IncomingHttpHeaders;
  /**
   * The body in chunks, once; rejects with HttpTimeoutError('body') on silence, HttpBodyTooLargeError
   * past maxBodyBytes, `signal.reason` on abort. Leaving the loop early closes the connection.
   */
  chunks(): AsyncGenerator<Buffer, void, undefined>;
  /** The whole body as UTF-8 text. */
  text(): Promise<string>;
  /** Drops the body unread and closes its connection. */
  cancel(): void;
}

/** A response body larger than the caller's maxBodyBytes. Never names the URL. */
export class HttpBodyTooLargeError extends Error {
  readonly code = 'ERR_BODY_TOO_LARGE';
  constructor(readonly limit: number) {
    super(`the response body is larger than ${limit} bytes`);
    this.name = 'HttpBodyTooLargeError';
  }
}

/** What a kept-alive socket closed by the server under a request fails with, before any answer. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);

/** Resolves once the response's headers are in; the body is read from the answer (see HttpResponse). */
export function sendHttpRequest(url: string | URL, o: HttpRequestOptions): Promise<HttpResponse> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const signal = o.signal;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  const body = o.body;
  const replayable = (o.idempotent ?? (o.method === 'GET' || o.method === 'HEAD')) && (body === undefined || typeof body === 'string' || body instanceof Uint8Array);
  return sendOnce(target, o, false, replayable ? () => sendOnce(target, o, true, undefined) : undefined);
}

/**
 * One try; `again` is called instead of failing when the reused socket it was given turns out
 * dead. A fresh try gets a connection of its own (agent false: closed after its answer), not one
 * from the pool, whose other idle sockets may be just as stale.
 */
function sendOnce(target: URL, o: HttpRequestOptions, fresh: boolean, again: (() => Promise<HttpResponse>) | undefined): Promise<HttpResponse> {
  const signal = o.signal;
  return new Promise<HttpResponse>((resolve, reject) => {
    const secure = target.protocol === 'https:';
    const transport = secure ? loadHttps() : http;
    const req = transport.request(target, { method: o.method, headers: o.headers, agent: fresh ? false : o.agents.for(target) });
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
    // Before the response the error rejects the call (or tries again); after it, it ends the body's reader.
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (res) return void res.destroy(err);
      done();
      if (again && req.reusedSocket && STALE_SOCKET_CODES.has(err.code ?? '') && !signal?.aborted) resolve(again());
      else reject(err);
    });

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
        // A TLS socket is connected once its handshake is done: one that stalls must time out too.
        socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(t));
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
      resolve(wrapResponse(incoming, o.bodyIdleTimeoutMs, o.maxBodyBytes));
    });

    const body = o.body;
    if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) req.end(body);
    else {
      const source = Readable.from(body);
      // First, so the request fails with the source's error (pipeline would only abort it).
      source.once('error', (err) => req.destroy(err));
      // pipeline, not pipe: a request that dies also ends the source (an iterator's finally runs).
      pipeline(source, req, () => {});
    }
  });
}

function wrapResponse(res: http.IncomingMessage, idleMs: number | undefined, maxBytes: number | undefined): HttpResponse {
  let taken = false;
  const tooLarge = (limit: number) => {
    const err = new HttpBodyTooLargeError(limit);
    res.destroy(err);
    return err;
  };
  async function* chunks(): AsyncGenerator<Buffer, void, undefined> {
    if (taken) throw new Error('the response body was already read');
    taken = true;
    if (maxBytes !== undefined && Number(res.headers['content-length']) > maxBytes) throw tooLarge(maxBytes);
    const it = res[Symbol.asyncIterator]();
    let silence: NodeJS.Timeout | undefined;
    let received = 0;
    try {
      for (;;) {
        // Timed only while waiting for the server: a slow reader is not a silent server.
        if (idleMs !== undefined) silence = setTimeout(() => res.destroy(new HttpTimeoutError('body', idleMs)), idleMs);
        const next = await it.next();
        clearTimeout(silence);
        if (next.done) return;
        const chunk = next.value as Buffer;
        received += chunk.length;
        if (maxBytes !== undefined && received > maxBytes) throw tooLarge(maxBytes);
        yield chunk;
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
    cancel() {
      taken = true;
      res.destroy();
    },
  };
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return Object.assign(new Error('the request was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}
