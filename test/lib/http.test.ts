// The node:http transport against real 127.0.0.1 servers: each timeout, abort before and after the headers, socket errors by code, streamed bodies, kept-alive connections.
import http, { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpAgents, HttpBodyTooLargeError, HttpTimeoutError, sendHttpRequest, type HttpAgents } from '../../lib/http.js';
import { freePort, waitUntil } from '../support/wait.js';
import { dropReusedConnections } from '../support/stale-socket.js';

const servers: Server[] = [];
const pools: HttpAgents[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) p.destroy();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  for (const s of tcpServers.splice(0)) {
    for (const socket of tcpSockets.splice(0)) socket.destroy();
    await new Promise((r) => s.close(r));
  }
});
const tcpServers: net.Server[] = [];
const tcpSockets: net.Socket[] = [];

function agents(): HttpAgents {
  const a = createHttpAgents({ idleMs: 10_000 });
  pools.push(a);
  return a;
}

/** A server, its URL, and a promise per accepted connection that resolves when that connection closes. */
async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; connections: number; closed: Promise<void>[] }> {
  const s = createServer(handler);
  servers.push(s);
  const state = { url: '', connections: 0, closed: [] as Promise<void>[] };
  s.on('connection', (socket) => {
    state.connections++;
    state.closed.push(new Promise((r) => socket.once('close', () => r())));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(s.address() as { port: number }).port}`;
  return state;
}

describe('sendHttpRequest', () => {
  it('sends method, headers and a string body, and reads the answer', async () => {
    const server = await listen((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, type: req.headers['content-type'], length: req.headers['content-length'], body })));
    });
    const res = await sendHttpRequest(`${server.url}/x`, { method: 'POST', agents: agents(), headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(res.status).toBe(201);
    expect(JSON.parse(await res.text())).toEqual({ method: 'POST', type: 'application/json', length: '7', body: '{"a":1}' });
  });

  it('streams a body given as an async iterable', async () => {
    const server = await listen((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => res.end(`${req.headers['transfer-encoding']}|${body}`));
    });
    async function* parts() {
      yield new TextEncoder().encode('one,');
      yield new TextEncoder().encode('two');
    }
    const res = await sendHttpRequest(server.url, { method: 'POST', agents: agents(), body: parts() });
    expect(await res.text()).toBe('chunked|one,two');
  });

  it('keeps the connection alive for the next request', async () => {
    const server = await listen((_req, res) => res.end('ok'));
    const pool = agents();
    for (let i = 0; i < 3; i++) expect(await (await sendHttpRequest(server.url, { method: 'GET', agents: pool })).text()).toBe('ok');
    expect(server.connections).toBe(1);
  });

  it('rejects with the socket error and its code when nothing listens', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    await expect(sendHttpRequest(url, { method: 'GET', agents: agents() })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('times out when the server accepts and never answers, and closes that connection', async () => {
    const server = await listen(() => {});
    const err = await sendHttpRequest(server.url, { method: 'GET', agents: agents(), headersTimeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpTimeoutError);
    expect(err).toMatchObject({ phase: 'headers', code: 'ETIMEDOUT', message: 'no response within 200 ms' });
    // Else a timeout that fired before the accept would leave nothing to await.
    await waitUntil(() => server.connections === 1, 'the server accepted the connection');
    await server.closed[0];
  });

  it('times out a connection that is never established', async () => {
    // A socket whose address lookup never answers stays "connecting", as behind a dropped SYN.
    const stuck = new http.Agent();
    stuck.createConnection = (options) => net.connect({ ...(options as net.TcpNetConnectOpts), lookup: () => {} });
    const pool: HttpAgents = { for: () => stuck, destroy: () => stuck.destroy() };
    pools.push(pool);
    const err = await sendHttpRequest('http://runtime.invalid:7878/health', { method: 'GET', agents: pool, connectTimeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'HttpTimeoutError', phase: 'connect', message: 'no connection within 100 ms' });
  });

  it('counts a TLS handshake that never ends as no connection, and closes the socket', async () => {
    // Accepts TCP and never speaks TLS, as a stalled handshake.
    let accepted = 0;
    let closed!: () => void;
    const socketClosed = new Promise<void>((r) => (closed = r));
    const tcp = net.createServer((socket) => {
      accepted++;
      tcpSockets.push(socket);
      socket.resume();
      socket.on('error', () => {});
      socket.once('close', () => closed());
    });
    tcpServers.push(tcp);
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(tcp.address() as net.AddressInfo).port}/health`;
    const err = await sendHttpRequest(url, { method: 'GET', agents: agents(), connectTimeoutMs: 200, headersTimeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'HttpTimeoutError', phase: 'connect', message: 'no connection within 200 ms' });
    expect(accepted).toBe(1);
    await socketClosed;
  });

  it('notices a body that goes silent, and the socket is closed', async () => {
    const server = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': hello\n\n');
    });
    const res = await sendHttpRequest(server.url, { method: 'GET', agents: agents(), bodyIdleTimeoutMs: 100 });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const chunk of res.chunks()) seen.push(chunk.toString());
    })().catch((e: unknown) => e);
    expect(seen).toEqual([': hello\n\n']);
    expect(err).toMatchObject({ name: 'HttpTimeoutError', phase: 'body' });
    await server.closed[0];
  });

  it('does not count a slow reader as a silent body', async () => {
    const server = await listen((_req, res) => {
      res.write('a');
      setImmediate(() => res.end('b'));
    });
    const res = await sendHttpRequest(server.url, { method: 'GET', agents: agents(), bodyIdleTimeoutMs: 50 });
    const seen: string[] = [];
    for await (const chunk of res.chunks()) {
      seen.push(chunk.toString());
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(seen.join('')).toBe('ab');
  });

  it('an abort before the answer rejects with the signal\'s reason and closes the connection', async () => {
    let arrived!: () => void;
    const requestSeen = new Promise<void>((r) => (arrived = r));
    const server = await listen(() => arrived());
    const ac = new AbortController();
    const pending = sendHttpRequest(server.url, { method: 'GET', agents: agents(), signal: ac.signal });
    await requestSeen;
    ac.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    await server.closed[0];
  });

  it('an abort while the body streams ends the reader at once and closes the connection', async () => {
    const server = await listen((_req, res) => {
      res.writeHead(200);
      res.write('first');
    });
    const ac = new AbortController();
    const res = await sendHttpRequest(server.url, { method: 'GET', agents: agents(), signal: ac.signal, bodyIdleTimeoutMs: 30_000 });
    const reading = (async () => {
      for await (const _chunk of res.chunks()) ac.abort(new Error('stopped by the test'));
    })();
    await expect(reading).rejects.toThrow('stopped by the test');
    await server.closed[0];
  });

  it('an already aborted signal sends nothing', async () => {
    const pool = agents();
    let asked = 0;
    const counting: HttpAgents = { for: (url) => (asked++, pool.for(url)), destroy: () => pool.destroy() };
    const ac = new AbortController();
    ac.abort();
    await expect(sendHttpRequest('http://127.0.0.1:9/x', { method: 'GET', agents: counting, signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(asked).toBe(0);
  });

  it('leaves no abort listener behind on a long-lived signal', async () => {
    const server = await listen((_req, res) => res.end('ok'));
    const ac = new AbortController();
    let listeners = 0;
    const signal = ac.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...a: Parameters<typeof add>) => (listeners++, add(...a))) as typeof add;
    signal.removeEventListener = ((...a: Parameters<typeof remove>) => (listeners--, remove(...a))) as typeof remove;
    const pool = agents();
    for (let i = 0; i < 5; i++) await (await sendHttpRequest(server.url, { method: 'GET', agents: pool, signal })).text();
    expect(listeners).toBe(0);
  });

  it('cancel() drops a body nobody reads: its connection closes and its abort listener goes', async () => {
    const server = await listen((_req, res) => {
      res.writeHead(200);
      res.write('more is coming');
    });
    const ac = new AbortController();
    const res = await sendHttpRequest(server.url, { method: 'GET', agents: agents(), signal: counted(ac.signal) });
    expect(listenerCount(ac.signal)).toBe(1);
    res.cancel();
    await server.closed[0];
    expect(listenerCount(ac.signal)).toBe(0);
    await expect(res.text()).rejects.toThrow();
  });

  it('stops reading a streamed body once the request is dead', async () => {
    let finished!: () => void;
    const sourceFinished = new Promise<void>((r) => (finished = r));
    async function* endless() {
      try {
        for (;;) {
          yield new TextEncoder().encode('part,');
          await new Promise((r) => setTimeout(r, 5));
        }
      } finally {
        finished();
      }
    }
    const server = await listen((req) => req.once('data', () => req.socket.destroy()));
    await expect(sendHttpRequest(server.url, { method: 'POST', agents: agents(), body: endless() })).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|EPIPE/) });
    await within(sourceFinished, 'the body source was ended');
  });

  it('a streamed body that fails fails the request with its error', async () => {
    const server = await listen((req) => req.resume());
    async function* broken() {
      yield new TextEncoder().encode('part,');
      throw new Error('the source broke');
    }
    await expect(sendHttpRequest(server.url, { method: 'POST', agents: agents(), body: broken() })).rejects.toThrow('the source broke');
  });
});

describe('a kept-alive socket the server closed as the request went out', () => {
  /**
   * Answers the first request on each connection and destroys the connection when another one
   * arrives on it, as a server whose idle timeout fires just as the client reuses the socket.
   */
  async function closesReused() {
    const { handler, seen } = dropReusedConnections((req, res) => {
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    const server = await listen(handler);
    return { ...server, seen, get connections() { return server.connections; } };
  }

  const send = (url: string, pool: HttpAgents, method: string, extra: { idempotent?: boolean; body?: string | AsyncIterable<Uint8Array> } = {}) =>
    sendHttpRequest(url, { method, agents: pool, ...extra }).then((res) => res.text());

  it('a GET is sent again once, on a fresh connection', async () => {
    const server = await closesReused();
    const pool = agents();
    await send(`${server.url}/warm`, pool, 'GET');
    await expect(send(`${server.url}/again`, pool, 'GET')).resolves.toBe('ok');
    expect(server.seen).toEqual(['GET /warm', 'GET /again (destroyed)', 'GET /again']);
    expect(server.connections).toBe(2);
  });

  it('a POST is sent again only when it says it is idempotent, and never with a streamed body', async () => {
    const server = await closesReused();
    const pool = agents();
    await send(`${server.url}/warm`, pool, 'GET');
    await expect(send(`${server.url}/post`, pool, 'POST', { body: '{}' })).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|EPIPE/) });
    await send(`${server.url}/warm`, pool, 'GET');
    await expect(send(`${server.url}/idempotent`, pool, 'POST', { body: '{}', idempotent: true })).resolves.toBe('ok');
    await send(`${server.url}/warm`, pool, 'GET');
    async function* streamed() {
      yield new TextEncoder().encode('{}');
    }
    await expect(send(`${server.url}/streamed`, pool, 'POST', { body: streamed(), idempotent: true })).rejects.toMatchObject({ code: expect.stringMatching(/ECONNRESET|EPIPE/) });
    expect(server.seen).toEqual([
      'GET /warm',
      'POST /post (destroyed)',
      'GET /warm',
      'POST /idempotent (destroyed)',
      'POST /idempotent',
      'GET /warm',
      'POST /streamed (destroyed)',
    ]);
  });

  it('a fresh connection that fails is not retried', async () => {
    const seen: string[] = [];
    const server = await listen((req) => {
      seen.push(`${req.method} ${req.url}`);
      req.socket.destroy();
    });
    await expect(send(`${server.url}/once`, agents(), 'GET')).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(seen).toEqual(['GET /once']);
  });
});

describe('maxBodyBytes', () => {
  it('refuses a body whose Content-Length is over the limit before reading any of it, and closes the connection', async () => {
    const server = await listen((_req, res) => {
      res.writeHead(200, { 'content-length': '1000000' });
      res.write('x'.repeat(50));
    });
    const res = await sendHttpRequest(`${server.url}/big`, { method: 'GET', agents: agents(), maxBodyBytes: 100, bodyIdleTimeoutMs: 5_000 });
    const seen: Buffer[] = [];
    const err = await (async () => {
      for await (const chunk of res.chunks()) seen.push(chunk);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpBodyTooLargeError);
    expect(err).toMatchObject({ code: 'ERR_BODY_TOO_LARGE', limit: 100, message: 'the response body is larger than 100 bytes' });
    expect(seen).toEqual([]);
    await server.closed[0];
  });

  it('cuts off a body without Content-Length once it passes the limit, and closes the connection', async () => {
    const server = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let sent = 0;
      const more = () => {
        if (res.destroyed || sent++ > 100) return;
        res.write('y'.repeat(60));
        setTimeout(more, 5);
      };
      more();
    });
    const res = await sendHttpRequest(`${server.url}/long`, { method: 'GET', agents: agents(), maxBodyBytes: 100, bodyIdleTimeoutMs: 5_000 });
    const err = await res.text().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpBodyTooLargeError);
    expect(String((err as Error).message)).not.toContain('127.0.0.1');
    await server.closed[0];
  });

  it('lets a body of exactly the limit through', async () => {
    const server = await listen((_req, res) => res.end('z'.repeat(100)));
    const res = await sendHttpRequest(server.url, { method: 'GET', agents: agents(), maxBodyBytes: 100 });
    expect(await res.text()).toBe('z'.repeat(100));
  });
});

/** Rejects naming `what` when `p` has not settled within a generous deadline (a clear failure instead of the test's timeout). */
function within<T>(p: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_r, reject) => (t = setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms)));
  return Promise.race([p, deadline]).finally(() => clearTimeout(t));
}

const counts = new WeakMap<AbortSignal, { n: number }>();
/** The signal, with its abort listeners counted (see listenerCount). */
function counted(signal: AbortSignal): AbortSignal {
  const count = { n: 0 };
  counts.set(signal, count);
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...a: Parameters<typeof add>) => (count.n++, add(...a))) as typeof add;
  signal.removeEventListener = ((...a: Parameters<typeof remove>) => (count.n--, remove(...a))) as typeof remove;
  return signal;
}
function listenerCount(signal: AbortSignal): number {
  return counts.get(signal)?.n ?? 0;
}
