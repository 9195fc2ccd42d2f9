// The HTTP + SSE client of the runtime API (v1), shared by the bridges and `tether chat`.
import { TetherError } from './errors.js';
import { createHttpAgents, HttpBodyTooLargeError, HttpTimeoutError, sendHttpRequest, type HttpAgents, type HttpRequestOptions } from './http.js';
import { shownUrl } from './shown-url.js';
import { readRuntimeToken } from './token.js';

// ---------- wire shapes (CONTRACT.md "Runtime HTTP API"), shared with the runtime

import type { Approval, ApprovalStatus, RuntimeEvent, RuntimeHealth, ThreadWithTurns, Thread, Turn } from './api-types.js';
export type { Approval, RuntimeEvent, RuntimeHealth, Thread, ThreadWithTurns, Turn, TurnStatus } from './api-types.js';
export { FINISHED_STATUSES as FINISHED_TURN_STATUSES } from './api-types.js';

// ---------- errors

/** The runtime answered with an error body (4xx/5xx), or with a body too large to read (`response_too_large`). */
export class RuntimeApiError extends TetherError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }
}

/** The runtime could not be reached at all (refused, reset, timed out). */
export class RuntimeUnavailableError extends TetherError {
  constructor(
    readonly url: string,
    cause: string,
  ) {
    super('runtime_unavailable', `the runtime at ${shownUrl(url)} is not reachable (${cause})`, 'start it with `tether runtime` (or `tether up`), or check TETHER_RUNTIME_URL');
  }
}

// ---------- client

export interface RuntimeClientOptions {
  url: string;
  /**
   * The bearer token, or a reader of it. A reader is asked when the first request needs the token
   * and again after a 401, so a client survives a runtime that regenerated its token file, and one
   * started before the runtime ever wrote it: while the reader throws, every call fails as
   * RuntimeUnavailableError (callers already retry that) and the next call asks again.
   */
  token: string | (() => string);
  /** Per-request timeout for the JSON routes (not the event stream). */
  timeoutMs?: number;
}

export interface ThreadFilter {
  limit?: number;
  metadata?: Record<string, string>;
}

export interface FollowEventsOptions {
  /** Hand out only events with seq greater than this. */
  after: number;
  threadId?: string;
  signal: AbortSignal;
  /** Awaited before the next event is handed out, so a cursor committed inside it is never ahead. */
  onEvent: (event: RuntimeEvent) => Promise<void> | void;
  /**
   * Connection state changes, for health reporting. The error of a disconnect is the runtime's
   * (RuntimeApiError, RuntimeUnavailableError), or what `onEvent` threw, as it was thrown.
   */
  onState?: (state: 'connected' | 'disconnected', error?: Error) => void;
  /** Longest wait between reconnects. */
  maxBackoffMs?: number;
}

export interface RuntimeClient {
  readonly url: string;
  health(): Promise<RuntimeHealth>;
  /** With `reuse` (keys of metadata; docs/runtime.md) the runtime answers the newest live thread with those values, or makes one. */
  createThread(body: { title?: string; model?: string; approval?: string; metadata?: Record<string, string>; reuse?: readonly string[] }): Promise<Thread>;
  listThreads(filter?: ThreadFilter): Promise<Thread[]>;
  getThread(id: string): Promise<ThreadWithTurns>;
  patchThread(id: string, body: { title?: string; model?: string; approval?: string; archived?: boolean; metadata?: Record<string, string> }): Promise<Thread>;
  postTurn(threadId: string, input: string, idempotencyKey?: string): Promise<Turn>;
  getTurn(threadId: string, turnId: string): Promise<Turn>;
  cancelTurn(threadId: string, turnId: string): Promise<Turn>;
  decideApproval(approvalId: string, decision: 'approve' | 'deny'): Promise<unknown>;
  /** Approvals, newest first; e.g. those of one thread still waiting for a person. */
  listApprovals(filter?: { threadId?: string; status?: ApprovalStatus }): Promise<Approval[]>;
  /**
   * Resolves when `signal` aborts; reconnects by itself on every failure, waiting longer each time
   * until a connection hands out an event. Rejects with the RuntimeApiError (404) when the runtime
   * has no thread `threadId`: waiting would not make it appear.
   */
  followEvents(options: FollowEventsOptions): Promise<void>;
  close(): Promise<void>;
}

/**
 * TETHER_TOKEN when configured, else a reader of the runtime's token file in the state dir. The
 * file is not required yet: a bridge may start before the runtime has written it (see
 * RuntimeClientOptions.token).
 */
export function resolveRuntimeToken(config: { token: string | undefined; stateDir: string }): string | (() => string) {
  if (config.token) return config.token;
  return () => readRuntimeToken(config.stateDir, undefined);
}

/** The Authorization header, read lazily from a token reader; see RuntimeClientOptions.token. */
interface BearerSource {
  /** The header; throws RuntimeUnavailableError while there is no token to read yet. */
  header(): { authorization: string };
  /** True when a fresh read gave a different token (worth one more try). */
  refresh(): boolean;
}

function bearerSource(base: string, token: string | (() => string)): BearerSource {
  let current = typeof token === 'string' ? token : undefined;
  const read = (): string | undefined => {
    if (typeof token === 'string') return token;
    try {
      // A file the runtime has created but not yet filled counts as not there.
      return token().trim() || undefined;
    } catch {
      return undefined;
    }
  };
  return {
    header() {
      current ??= read();
      if (current === undefined) throw new RuntimeUnavailableError(base, 'its token is not there yet: TETHER_TOKEN is unset and the runtime has not written runtime.token');
      return { authorization: `Bearer ${current}` };
    },
    refresh() {
      const next = read();
      if (next === undefined || next === current) return false;
      current = next;
      return true;
    },
  };
}

/** Idle keep-alive connections are closed after this (sooner if the runtime's Keep-Alive hint says so). */
const KEEP_ALIVE_IDLE_MS = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;
/** The event stream's timeouts. The runtime sends a comment at least every 15 s; silence for much longer means a dead socket. */
const EVENTS_TIMEOUTS = { connectTimeoutMs: CONNECT_TIMEOUT_MS, headersTimeoutMs: 15_000, bodyIdleTimeoutMs: 45_000 } satisfies Partial<HttpRequestOptions>;
/** Largest JSON answer read (a long thread's turns); the event stream is read as it comes and has no limit. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Safe to send twice (lib/http retries it once on a stale kept-alive socket). */
  idempotent?: boolean;
}

export function createRuntimeClient(options: RuntimeClientOptions): RuntimeClient {
  const base = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const agents = createHttpAgents({ idleMs: KEEP_ALIVE_IDLE_MS });
  const bearer = bearerSource(base, options.token);

  async function call<T>(method: string, path: string, o: CallOptions = {}, retried = false): Promise<T> {
    // /health needs no token, so it answers even before the runtime's token file can be read.
    const auth = path === '/health' ? {} : bearer.header();
    const body = o.body;
    let status: number | undefined;
    let text: string;
    try {
      const res = await sendHttpRequest(base + path, {
        method,
        agents,
        headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...o.headers },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        ...(o.idempotent !== undefined ? { idempotent: o.idempotent } : {}),
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        headersTimeoutMs: timeoutMs,
        bodyIdleTimeoutMs: timeoutMs,
        maxBodyBytes: MAX_JSON_BYTES,
      });
      status = res.status;
      // A body cut off or gone silent is the runtime being unreachable too, whatever the status said.
      text = await res.text();
    } catch (err) {
      if (err instanceof HttpBodyTooLargeError) throw new RuntimeApiError(status ?? 0, 'response_too_large', err.message);
      throw new RuntimeUnavailableError(base, connectionCause(err));
    }
    if (status >= 200 && status < 300) return (text ? JSON.parse(text) : undefined) as T;
    if (status === 401 && !retried && bearer.refresh()) return call(method, path, o, true);
    throw toApiError(status, text);
  }

  const enc = encodeURIComponent;
  return {
    url: base,
    health: () => call('GET', '/health'),
    // Find-or-create (reuse) makes one thread however often it is sent.
    createThread: (body) => call('POST', '/v1/threads', { body, idempotent: (body.reuse?.length ?? 0) > 0 }),
    listThreads: async (filter = {}) => {
      const q = new URLSearchParams();
      if (filter.limit !== undefined) q.set('limit', String(filter.limit));
      for (const [k, v] of Object.entries(filter.metadata ?? {})) q.set(`metadata.${k}`, v);
      const qs = q.toString();
      return (await call<{ threads: Thread[] }>('GET', `/v1/threads${qs ? `?${qs}` : ''}`)).threads;
    },
    getThread: (id) => call('GET', `/v1/threads/${enc(id)}`),
    patchThread: (id, body) => call('PATCH', `/v1/threads/${enc(id)}`, { body }),
    // The runtime answers a repeated key with the turn it made the first time.
    postTurn: (threadId, input, key) => call('POST', `/v1/threads/${enc(threadId)}/turns`, key ? { body: { input }, headers: { 'idempotency-key': key }, idempotent: true } : { body: { input } }),
    getTurn: (threadId, turnId) => call('GET', `/v1/threads/${enc(threadId)}/turns/${enc(turnId)}`),
    cancelTurn: (threadId, turnId) => call('POST', `/v1/threads/${enc(threadId)}/turns/${enc(turnId)}/cancel`, { body: {} }),
    decideApproval: (approvalId, decision) => call('POST', `/v1/approvals/${enc(approvalId)}`, { body: { decision } }),
    listApprovals: async (filter = {}) => {
      const q = new URLSearchParams();
      if (filter.threadId !== undefined) q.set('thread_id', filter.threadId);
      if (filter.status !== undefined) q.set('status', filter.status);
      const qs = q.toString();
      return (await call<{ approvals: Approval[] }>('GET', `/v1/approvals${qs ? `?${qs}` : ''}`)).approvals;
    },
    followEvents: (o) => followEventStream(base, bearer, agents, o),
    close: async () => agents.destroy(),
  };
}

/** The socket error's code (ECONNREFUSED, ECONNRESET…), or which wait timed out. */
function connectionCause(err: unknown): string {
  if (err instanceof HttpTimeoutError) return `${err.code}: ${err.message}`;
  const e = err as { code?: unknown; message?: unknown };
  return typeof e.code === 'string' ? e.code : typeof e.message === 'string' ? e.message : String(err);
}

function toApiError(status: number, text: string): RuntimeApiError {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (body.error && typeof body.error.code === 'string') return new RuntimeApiError(status, body.error.code, String(body.error.message ?? body.error.code));
  } catch {
    // not the contract's error body: fall through to a generic one
  }
  return new RuntimeApiError(status, `http_${status}`, `the runtime answered HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`);
}

// ---------- SSE

export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/**
 * An incremental parser of text/event-stream: feed it decoded text in any pieces, get whole
 * messages back. Handles \n, \r\n and \r line ends, comments, multi-line data.
 */
export function createSseParser(): { push(text: string): SseMessage[] } {
  let buffer = '';
  let data: string[] = [];
  let id: string | undefined;
  let event: string | undefined;
  let pendingCr = false;
  return {
    push(text: string): SseMessage[] {
      const out: SseMessage[] = [];
      // A \r\n split across two pieces must not count as two line ends.
      if (pendingCr && text.startsWith('\n')) text = text.slice(1);
      pendingCr = false;
      buffer += text;
      for (;;) {
        const m = /\r\n|\r|\n/.exec(buffer);
        if (!m) break;
        if (m[0] === '\r' && m.index === buffer.length - 1) pendingCr = true;
        const line = buffer.slice(0, m.index);
        buffer = buffer.slice(m.index + m[0].length);
        if (line === '') {
          if (data.length > 0 || id !== undefined || event !== undefined) {
            if (data.length > 0) out.push({ ...(id !== undefined ? { id } : {}), ...(event !== undefined ? { event } : {}), data: data.join('\n') });
          }
          data = [];
          id = undefined;
          event = undefined;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') data.push(value);
        else if (field === 'id') id = value;
        else if (field === 'event') event = value;
      }
      return out;
    },
  };
}

/** Waits `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A connection that stayed up this long proves itself even without an event: the next wait starts short again. */
const STREAM_PROVEN_MS = 30_000;

async function followEventStream(base: string, bearer: BearerSource, agents: HttpAgents, o: FollowEventsOptions): Promise<void> {
  let last = o.after;
  let failures = 0;
  const maxBackoff = o.maxBackoffMs ?? 10_000;
  const path = o.threadId ? `/v1/threads/${encodeURIComponent(o.threadId)}/events` : '/v1/events';
  while (!o.signal.aborted) {
    const from = last;
    let connectedAt: number | undefined;
    let handlerFailed = false;
    let error: Error;
    try {
      const res = await sendHttpRequest(`${base}${path}?after=${last}`, {
        method: 'GET',
        agents,
        signal: o.signal,
        headers: { ...bearer.header(), accept: 'text/event-stream', 'last-event-id': String(last) },
        ...EVENTS_TIMEOUTS,
      });
      if (res.status !== 200) {
        const text = await res.text().catch(() => '');
        if (res.status === 401) bearer.refresh();
        throw toApiError(res.status, text);
      }
      connectedAt = Date.now();
      o.onState?.('connected');
      const parser = createSseParser();
      const decoder = new TextDecoder();
      for await (const chunk of res.chunks()) {
        for (const msg of parser.push(decoder.decode(chunk, { stream: true }))) {
          let event: RuntimeEvent;
          try {
            event = JSON.parse(msg.data) as RuntimeEvent;
          } catch {
            continue;
          }
          if (typeof event.seq !== 'number' || event.seq <= last) continue;
          try {
            await o.onEvent(event);
          } catch (err) {
            handlerFailed = true;
            throw err;
          }
          last = event.seq;
        }
      }
      throw new Error('the event stream ended');
    } catch (err) {
      if (o.signal.aborted) break;
      // The caller's own failure (a full disk…) is not the runtime's: it is reported as it is.
      if (handlerFailed) error = err instanceof Error ? err : new Error(String(err));
      else error = err instanceof RuntimeApiError || err instanceof RuntimeUnavailableError ? err : new RuntimeUnavailableError(base, connectionCause(err));
    }
    // A thread the runtime does not have will not appear by waiting (a wrong id, or a runtime whose state was reset).
    if (o.threadId !== undefined && error instanceof RuntimeApiError && error.status === 404) throw error;
    // Back to short waits only after a connection proved itself; one that answers and fails at once
    // (a stream that ends, an onEvent that keeps throwing) waits longer each time, up to maxBackoff.
    if (last > from || (connectedAt !== undefined && Date.now() - connectedAt >= STREAM_PROVEN_MS)) failures = 0;
    if (connectedAt !== undefined || failures === 0) o.onState?.('disconnected', error);
    failures++;
    await pause(Math.min(maxBackoff, 200 * 2 ** Math.min(failures, 8)), o.signal);
  }
}
