// A fake OpenAI-compatible model server on 127.0.0.1: scripted or default streamed replies, and a record of every request.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeReply {
  /** Text streamed as content deltas, one SSE chunk each. */
  chunks?: string[];
  /** Tool calls; arguments: an object (JSON.stringify'd) or a raw string, streamed in fragments. */
  toolCalls?: Array<{ name: string; arguments: unknown }>;
  /** Delay before each chunk (content and tool-call fragments). */
  chunkDelayMs?: number;
  /** Answer this HTTP status with an OpenAI error body instead of streaming. */
  status?: number;
  /** Retry-After header value sent with `status`. */
  retryAfter?: string;
  /** Error message in the body sent with `status` (a provider's own words). */
  message?: string;
  /** Send every tool call with index 0, as Ollama does (ollama#15457); ids still differ. */
  reuseToolIndex?: boolean;
  /** Stream N content chunks, then destroy the socket. */
  failAfterChunks?: number;
  /** After the chunks, send `data: {"error": …}` in the stream (as some providers do) and end. */
  streamError?: string;
  /** Never answer (until the client aborts or the fake closes). */
  hang?: boolean;
  /** Answer only once this settles: a test does something while the request is known to be in flight. */
  after?: Promise<unknown>;
  usage?: { prompt_tokens: number; completion_tokens: number };
}

export interface FakeRequest {
  headers: Record<string, string | string[] | undefined>;
  // The body is whatever the client sent; tests inspect it freely.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  /** Date.now() when the request arrived (for checking retry gaps). */
  at: number;
}

export interface FakeModel {
  /** http://127.0.0.1:PORT/v1 — use as TETHER_BASE_URL. */
  url: string;
  /** Every chat/completions request, in arrival order. */
  requests: FakeRequest[];
  /** Replies consumed in order, one per request; an empty queue falls back to the default behaviour. */
  enqueue(...replies: FakeReply[]): void;
  /** Resolves once at least n chat/completions requests arrived; rejects after timeoutMs with what did arrive. */
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface FakeModelOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  defaultReply?: (body: any) => FakeReply;
  /** When set, every route answers 401 unless the request carries `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Model ids listed by GET /v1/models (default: ['fake-model']). */
  models?: string[];
}

const ERROR_TYPES: Record<number, { type: string; code: string; message: string }> = {
  400: { type: 'invalid_request_error', code: 'invalid_request', message: 'Invalid request.' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
  403: { type: 'permission_error', code: 'forbidden', message: 'You are not allowed to use this model.' },
  404: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model does not exist.' },
  429: { type: 'rate_limit_error', code: 'rate_limit_exceeded', message: 'Rate limit reached, please retry later.' },
};

function errorBody(status: number, message?: string): string {
  const known = ERROR_TYPES[status] ?? { type: 'server_error', code: 'server_error', message: 'The server had an error while processing your request.' };
  return JSON.stringify({ error: { message: message ?? known.message, type: known.type, param: null, code: known.code } });
}

/** Text of a message's content, whether a string or OpenAI content parts. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p: unknown) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : ''))
      .join('');
  }
  return '';
}

/** Splits text into at most n non-empty pieces without cutting a code point. */
export function splitIntoPieces(text: string, n: number): string[] {
  const points = Array.from(text);
  if (points.length === 0) return [];
  const size = Math.ceil(points.length / n);
  const pieces: string[] = [];
  for (let i = 0; i < points.length; i += size) pieces.push(points.slice(i, i + size).join(''));
  return pieces;
}

/** The default behaviour, chosen from the last message of the request (documented in fake-model-api.md). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function defaultFakeReply(body: any): FakeReply {
  const messages: unknown[] = Array.isArray(body?.messages) ? body.messages : [];
  const last = messages[messages.length - 1] as { role?: unknown; content?: unknown } | undefined;
  if (last?.role === 'tool') return { chunks: splitIntoPieces(`done: ${Array.from(contentText(last.content)).slice(0, 200).join('')}`, 3) };
  const lastUser = [...messages].reverse().find((m) => (m as { role?: unknown }).role === 'user') as { content?: unknown } | undefined;
  const text = contentText(lastUser?.content).trim();

  const tool = /^!tool\s+(\S+)(?:\s+([\s\S]*))?$/.exec(text);
  if (tool) {
    const rawArgs = tool[2]?.trim() ?? '';
    let args: unknown = {};
    if (rawArgs) {
      try {
        args = JSON.parse(rawArgs);
      } catch {
        args = rawArgs; // passed on raw so the runtime's handling of bad arguments can be tested
      }
    }
    return { toolCalls: [{ name: tool[1] ?? '', arguments: args }] };
  }

  const slow = /^!slow\s+(\d+)\s+([\s\S]*)$/.exec(text);
  if (slow) return { chunks: slow[2]?.match(/\S+\s*/g) ?? [], chunkDelayMs: Number(slow[1]) };

  return { chunks: splitIntoPieces(`echo: ${text}`, 3) };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function roughTokens(value: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(value ?? '').length / 4));
}

export async function startFakeModel(options: FakeModelOptions = {}): Promise<FakeModel> {
  const queue: FakeReply[] = [];
  const requests: FakeRequest[] = [];
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;
  let sequence = 0;

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0) return resolve();
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function streamReply(req: IncomingMessage, res: ServerResponse, body: any, reply: FakeReply): Promise<void> {
    let gone = false;
    res.on('close', () => (gone = true));
    const id = `chatcmpl-fake${++sequence}`;
    const created = Math.floor(Date.now() / 1000);
    const model = typeof body?.model === 'string' ? body.model : 'fake-model';
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra })}\n\n`;
    const send = (text: string) => {
      if (!gone) res.write(text);
    };

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    send(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));

    const delay = reply.chunkDelayMs ?? 0;
    let streamed = 0;
    const chunks = reply.chunks ?? [];
    for (const text of chunks) {
      if (reply.failAfterChunks !== undefined && streamed >= reply.failAfterChunks) break;
      await wait(delay);
      if (gone || closed) return;
      send(chunk([{ index: 0, delta: { content: text }, finish_reason: null }]));
      streamed++;
    }
    if (reply.failAfterChunks !== undefined) {
      // Give the written bytes a moment to leave, then cut the connection as a crashed provider would.
      await wait(20);
      req.socket.destroy();
      return;
    }
    if (reply.streamError !== undefined) {
      send(`data: ${JSON.stringify({ error: { message: reply.streamError, type: 'server_error', code: 'stream_error' } })}\n\n`);
      res.end();
      return;
    }

    const calls = reply.toolCalls ?? [];
    for (const [position, call] of calls.entries()) {
      const index = reply.reuseToolIndex ? 0 : position;
      const args = typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {});
      const callId = `call_${sequence}_${position}`;
      await wait(delay);
      if (gone || closed) return;
      send(chunk([{ index: 0, delta: { tool_calls: [{ index, id: callId, type: 'function', function: { name: call.name, arguments: '' } }] }, finish_reason: null }]));
      for (const fragment of splitIntoPieces(args, 3)) {
        await wait(delay);
        if (gone || closed) return;
        send(chunk([{ index: 0, delta: { tool_calls: [{ index, function: { arguments: fragment } }] }, finish_reason: null }]));
      }
    }

    send(chunk([{ index: 0, delta: {}, finish_reason: calls.length > 0 ? 'tool_calls' : 'stop' }]));
    if (body?.stream_options?.include_usage === true) {
      const usage = reply.usage ?? { prompt_tokens: roughTokens(body?.messages), completion_tokens: chunks.length + calls.length };
      send(chunk([], { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } }));
    }
    send('data: [DONE]\n\n');
    res.end();
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  function answerWhole(res: ServerResponse, body: any, reply: FakeReply): void {
    const text = (reply.chunks ?? []).join('');
    const calls = (reply.toolCalls ?? []).map((c, index) => ({
      id: `call_${++sequence}_${index}`,
      type: 'function',
      function: { name: c.name, arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments ?? {}) },
    }));
    const usage = reply.usage ?? { prompt_tokens: roughTokens(body?.messages), completion_tokens: Math.max(1, Math.ceil(text.length / 4)) };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: `chatcmpl-fake${sequence}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body?.model ?? 'fake-model',
        choices: [{ index: 0, message: { role: 'assistant', content: text || null, ...(calls.length ? { tool_calls: calls } : {}) }, finish_reason: calls.length ? 'tool_calls' : 'stop' }],
        usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
      }),
    );
  }

  const authorized = (req: IncomingMessage) => options.apiKey === undefined || req.headers.authorization === `Bearer ${options.apiKey}`;
  const refuse = (res: ServerResponse) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end(errorBody(401));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/v1/models') {
      if (!authorized(req)) return refuse(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: (options.models ?? ['fake-model']).map((id) => ({ id, object: 'model', created: 0, owned_by: 'tether-tests' })) }));
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(errorBody(404, `Unknown route ${req.method} ${path}`));
      return;
    }
    const raw = await readBody(req);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(errorBody(400, 'We could not parse the JSON body of your request.'));
      return;
    }
    requests.push({ headers: { ...req.headers }, body, at: Date.now() });
    for (const w of [...waiters]) w();
    if (!authorized(req)) return refuse(res);

    const reply = queue.shift() ?? (options.defaultReply ?? defaultFakeReply)(body);
    if (reply.after) await reply.after.catch(() => undefined);
    if (reply.hang) return; // the socket stays open until the client gives up or close() destroys it
    if (reply.status !== undefined && reply.status !== 200) {
      await wait(reply.chunkDelayMs ?? 0);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (reply.retryAfter !== undefined) headers['retry-after'] = reply.retryAfter;
      res.writeHead(reply.status, headers);
      res.end(errorBody(reply.status, reply.message));
      return;
    }
    if (body?.stream === true) await streamReply(req, res, body, reply);
    else answerWhole(res, body, reply);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...replies) => void queue.push(...replies),
    waitForRequests(n, timeoutMs = 20_000) {
      if (requests.length >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (requests.length < n) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`fake model: waited ${timeoutMs} ms for ${n} requests, got ${requests.length}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
      });
    },
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
