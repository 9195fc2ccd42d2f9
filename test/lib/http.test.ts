// The node:http transport against real 127.0.0.1 servers: each timeout, abort before and after the headers, socket errors by code, streamed bodies, kept-alive connections.
import http, { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpAgents, HttpTimeoutError, sendHttpRequest, type HttpAgents } from '../../lib/http.js';
import { freePort } from '../support/wait.js';

const servers: Server[] = [];
const pools: HttpAgents[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) p.destroy();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

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
    const err = await sendHttpRequest(server.url, { method: 'GET', agents: agents(), headersTimeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpTimeoutError);
    expect(err).toMatchObject({ phase: 'headers', code: 'ETIMEDOUT', message: 'no response within 100 ms' });
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
    const server = await listen((_req, res) => res.end());
    const ac = new AbortController();
    ac.abort();
    await expect(sendHttpRequest(server.url, { method: 'GET', agents: agents(), signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(server.connections).toBe(0);
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
});
