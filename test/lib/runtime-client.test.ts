// The runtime client: SSE parsing across chunk boundaries, typed errors, and a follower that resumes without gaps or repeats.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntimeClient, createSseParser, RuntimeApiError, RuntimeUnavailableError, type RuntimeEvent } from '../../lib/runtime-client.js';
import { dropReusedConnections } from '../support/stale-socket.js';

describe('createSseParser', () => {
  const stream = 'id: 1\nevent: a\ndata: {"seq":1}\n\n: keepalive\n\nid: 2\r\nevent: b\r\ndata: line one\r\ndata: line two\r\n\r\n';
  it.each([1, 2, 3, 7, stream.length])('gives the same messages when fed %i characters at a time', (size) => {
    const p = createSseParser();
    const out = [];
    for (let i = 0; i < stream.length; i += size) out.push(...p.push(stream.slice(i, i + size)));
    expect(out).toEqual([
      { id: '1', event: 'a', data: '{"seq":1}' },
      { id: '2', event: 'b', data: 'line one\nline two' },
    ]);
  });
});

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** Rejects naming `what` when `p` has not settled within `ms` (a clear failure instead of the test's timeout). */
function within<T>(p: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_r, reject) => (t = setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms)));
  return Promise.race([p, deadline]).finally(() => clearTimeout(t));
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, keepAliveTimeoutMs?: number): Promise<string> {
  const s = createServer(handler);
  if (keepAliveTimeoutMs !== undefined) s.keepAliveTimeout = keepAliveTimeoutMs;
  servers.push(s);
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as { port: number }).port}`)));
}

const ev = (seq: number) => `id: ${seq}\nevent: turn.queued\ndata: ${JSON.stringify({ seq, type: 'turn.queued', thread_id: 't', at: new Date().toISOString() })}\n\n`;

describe('createRuntimeClient', () => {
  it('turns the contract error body into RuntimeApiError with status and code', async () => {
    const url = await listen((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'not_found', message: 'no thread x' } }));
    });
    const c = createRuntimeClient({ url, token: 'x'.repeat(20) });
    const err = await c.getThread('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeApiError);
    expect(err).toMatchObject({ status: 404, code: 'not_found', message: 'no thread x' });
    await c.close();
  });

  it('says the runtime is unavailable when nothing listens, naming the socket error', async () => {
    const url = await listen(() => {});
    await new Promise((r) => servers.pop()!.close(r));
    const c = createRuntimeClient({ url, token: 'x'.repeat(20) });
    const err = await c.health().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeUnavailableError);
    expect((err as Error).message).toContain('(ECONNREFUSED)');
    await c.close();
  });

  it('gives up on a runtime that accepts and never answers after timeoutMs', async () => {
    const url = await listen(() => {});
    const c = createRuntimeClient({ url, token: 'x'.repeat(20), timeoutMs: 100 });
    const err = await c.listThreads().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeUnavailableError);
    expect((err as Error).message).toContain('(ETIMEDOUT: no response within 100 ms)');
    await c.close();
  });

  it('counts a body cut off mid-way as the runtime being unavailable, not as an answer', async () => {
    const url = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"threads":');
      setImmediate(() => res.destroy());
    });
    const c = createRuntimeClient({ url, token: 'x'.repeat(20) });
    await expect(c.listThreads()).rejects.toBeInstanceOf(RuntimeUnavailableError);
    await c.close();
  });

  it('an abort ends the event stream at once and closes its connection', async () => {
    let closed!: () => void;
    const connectionClosed = new Promise<void>((r) => (closed = r));
    const url = await listen((req, res) => {
      req.socket.once('close', () => closed());
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(ev(1));
    });
    const c = createRuntimeClient({ url, token: 'x'.repeat(20) });
    const ac = new AbortController();
    const states: string[] = [];
    let first!: () => void;
    const gotFirst = new Promise<void>((r) => (first = r));
    const following = c.followEvents({ after: 0, signal: ac.signal, onState: (s) => states.push(s), onEvent: () => first() });
    await gotFirst;
    ac.abort();
    await following;
    await connectionClosed;
    // Stopping is not a lost connection.
    expect(states).toEqual(['connected']);
    await c.close();
  });

  it('close() ends the connections it kept alive', async () => {
    let closed!: () => void;
    const connectionClosed = new Promise<void>((r) => (closed = r));
    // Neither side would close the idle connection within the deadline by itself (server 60 s, client 10 s).
    const url = await listen((req, res) => {
      req.socket.once('close', () => closed());
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","version":"t"}');
    }, 60_000);
    const c = createRuntimeClient({ url, token: 'x'.repeat(20) });
    await c.health();
    await c.close();
    await within(connectionClosed, 'close() ended the kept-alive connection', 2_000);
  });

  it('refuses an answer larger than it reads (64 MiB) without reading it', async () => {
    const url = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(100 * 1024 * 1024) });
      res.write('{"id":"x","turns":[');
    });
    const c = createRuntimeClient({ url, token: 'x'.repeat(20) });
    const err = await c.getThread('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeApiError);
    expect(err).toMatchObject({ code: 'response_too_large', message: 'the response body is larger than 67108864 bytes' });
    await c.close();
  });

  it('sends the bearer token and the Idempotency-Key', async () => {
    const seen: Array<Record<string, unknown>> = [];
    const url = await listen((req, res) => {
      seen.push({ auth: req.headers.authorization, key: req.headers['idempotency-key'], url: req.url });
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'turn_1' }));
    });
    const c = createRuntimeClient({ url, token: 'secret-token-123456' });
    await c.postTurn('th 1', 'hi', 'telegram:1:2');
    expect(seen).toEqual([{ auth: 'Bearer secret-token-123456', key: 'telegram:1:2', url: '/v1/threads/th%201/turns' }]);
    await c.close();
  });

  it('reads the token again after a 401, so a regenerated token file is picked up', async () => {
    let current = 'old-token-0123456789';
    const url = await listen((req, res) => {
      const ok = req.headers.authorization === 'Bearer new-token-0123456789';
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify(ok ? { threads: [] } : { error: { code: 'unauthorized', message: 'bad token' } }));
    });
    const c = createRuntimeClient({ url, token: () => current });
    await expect(c.listThreads()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
    current = 'new-token-0123456789';
    await expect(c.listThreads()).resolves.toEqual([]);
    await c.close();
  });

  it('made before the runtime wrote its token: calls fail as unavailable (health works), the follower waits, and both go on once the token is there', async () => {
    const seen: string[] = [];
    const url = await listen((req, res) => {
      seen.push(`${req.url} ${req.headers.authorization ?? '-'}`);
      if (req.url === '/health') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","version":"t"}');
      if (req.url!.startsWith('/v1/events')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return void res.write(ev(1));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"threads":[]}');
    });
    let file: string | undefined;
    const c = createRuntimeClient({
      url,
      token: () => {
        if (file === undefined) throw new Error('no runtime token: runtime.token does not exist');
        return file;
      },
    });
    await expect(c.health()).resolves.toMatchObject({ status: 'ok' });
    const early = await c.listThreads().catch((e: unknown) => e);
    expect(early).toBeInstanceOf(RuntimeUnavailableError);
    expect((early as Error).message).toMatch(/token is not there yet/);
    // Created but not yet written: still not a token.
    file = '\n';
    await expect(c.listThreads()).rejects.toBeInstanceOf(RuntimeUnavailableError);
    const states: string[] = [];
    let refused!: () => void;
    const firstRefusal = new Promise<void>((r) => (refused = r));
    const ac = new AbortController();
    const got: number[] = [];
    const following = c.followEvents({
      after: 0,
      signal: ac.signal,
      maxBackoffMs: 30,
      onState: (state, error) => {
        states.push(`${state}${error ? `: ${error.message}` : ''}`);
        refused();
      },
      onEvent: (e) => {
        got.push(e.seq);
        ac.abort();
      },
    });
    await firstRefusal;
    file = 'fresh-token-0123456789\n';
    await following;
    expect(got).toEqual([1]);
    expect(states[0]).toMatch(/^disconnected: .*token is not there yet/);
    expect(states).toContain('connected');
    await expect(c.listThreads()).resolves.toEqual([]);
    // Nothing went out without the token, except /health.
    expect(seen.filter((l) => !l.startsWith('/health'))).toEqual(['/v1/events?after=0 Bearer fresh-token-0123456789', '/v1/threads Bearer fresh-token-0123456789']);
    await c.close();
  });

  it('reconnects from the last event it handed out: none twice, none skipped', async () => {
    const afters: string[] = [];
    let connection = 0;
    const url = await listen((req, res) => {
      const after = Number(new URL(req.url!, 'http://x').searchParams.get('after'));
      afters.push(String(after));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      connection++;
      if (connection === 1) {
        // Two whole events and half of the third, then the connection drops.
        const third = ev(3);
        res.write(ev(1) + ev(2) + third.slice(0, 20));
        setTimeout(() => res.destroy(), 20);
      } else {
        // A server that replays a little too much: the client must skip what it already gave out.
        res.write(ev(2) + ev(3) + ev(4));
      }
    });
    const c = createRuntimeClient({ url, token: 'x'.repeat(20) });
    const got: number[] = [];
    const ac = new AbortController();
    const done = c.followEvents({
      after: 0,
      signal: ac.signal,
      maxBackoffMs: 50,
      onEvent: (e: RuntimeEvent) => {
        got.push(e.seq);
        if (e.seq === 4) ac.abort();
      },
    });
    await done;
    expect(got).toEqual([1, 2, 3, 4]);
    expect(afters).toEqual(['0', '2']);
    await c.close();
  });

  /** Follows until `count` connections were made; their times, and what onState said. */
  async function followUntil(url: string, count: number, onEvent: (e: RuntimeEvent) => void, arrivals: number[]) {
    const c = createRuntimeClient({ url, token: 'x'.repeat(20) });
    const ac = new AbortController();
    const states: Array<{ state: string; error?: Error }> = [];
    const following = c.followEvents({ after: 0, signal: ac.signal, maxBackoffMs: 10_000, onEvent, onState: (state, error) => states.push({ state, ...(error ? { error } : {}) }) });
    const stop = setInterval(() => arrivals.length >= count && ac.abort(), 10);
    await following;
    clearInterval(stop);
    await c.close();
    return states;
  }

  it('a stream that answers and ends at once is retried with a growing wait, not every 400 ms', async () => {
    const arrivals: number[] = [];
    const url = await listen((_req, res) => {
      arrivals.push(Date.now());
      res.writeHead(200, { 'content-type': 'text/event-stream' }).end();
    });
    const states = await followUntil(url, 3, () => {}, arrivals);
    // The waits are 400 ms, then 800 ms: a timer never fires early, so the second is at least that.
    expect(arrivals[2]! - arrivals[1]!).toBeGreaterThanOrEqual(750);
    const errors = states.filter((s) => s.state === 'disconnected').map((s) => s.error);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    for (const e of errors) expect(e).toBeInstanceOf(RuntimeUnavailableError);
  });

  it('an onEvent that keeps failing is reported as itself, not as the runtime, and the wait grows', async () => {
    const arrivals: number[] = [];
    const url = await listen((_req, res) => {
      arrivals.push(Date.now());
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(ev(1));
    });
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    const states = await followUntil(url, 3, () => {
      throw full;
    }, arrivals);
    expect(arrivals[2]! - arrivals[1]!).toBeGreaterThanOrEqual(750);
    const errors = states.filter((s) => s.state === 'disconnected').map((s) => s.error);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    for (const e of errors) expect(e).toBe(full);
  });

  it("a thread's stream ends with the 404 when the runtime has no such thread; the all-threads stream keeps trying", async () => {
    const seen: string[] = [];
    const ac = new AbortController();
    const url = await listen((req, res) => {
      seen.push(req.url!.split('?')[0]!);
      if (seen.length >= 4) ac.abort();
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'not_found', message: 'no thread thr_gone' } }));
    });
    const c = createRuntimeClient({ url, token: 'x'.repeat(20) });
    const thread = c.followEvents({ after: 0, threadId: 'thr_gone', signal: ac.signal, maxBackoffMs: 20, onEvent: () => {} });
    await expect(within(thread, 'the thread stream ended')).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect(seen).toEqual(['/v1/threads/thr_gone/events']);

    const all = c.followEvents({ after: 0, signal: ac.signal, maxBackoffMs: 20, onEvent: () => {} });
    await expect(within(all, 'the all-threads stream was stopped')).resolves.toBeUndefined();
    expect(seen.slice(1)).toEqual(['/v1/events', '/v1/events', '/v1/events']);
    await c.close();
  });
});

describe('a kept-alive socket the runtime closed as the request went out', () => {
  it('postTurn with an idempotency key and createThread with reuse are sent again; without them they fail', async () => {
    const { handler, seen } = dropReusedConnections((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"x","status":"ok"}'));
    });
    const url = await listen(handler);
    const c = createRuntimeClient({ url, token: 'x'.repeat(20) });
    await c.health();
    await expect(c.postTurn('t', 'hi', 'telegram:1:2')).resolves.toMatchObject({ id: 'x' });
    await c.health();
    await expect(c.postTurn('t', 'hi')).rejects.toBeInstanceOf(RuntimeUnavailableError);
    await c.health();
    await expect(c.createThread({ metadata: { platform: 'telegram', conversation: '1' }, reuse: ['platform', 'conversation'] })).resolves.toMatchObject({ id: 'x' });
    await c.health();
    await expect(c.createThread({ metadata: { platform: 'terminal' } })).rejects.toBeInstanceOf(RuntimeUnavailableError);
    expect(seen).toEqual([
      'GET /health',
      'POST /v1/threads/t/turns (destroyed)',
      'POST /v1/threads/t/turns',
      'GET /health',
      'POST /v1/threads/t/turns (destroyed)',
      'GET /health',
      'POST /v1/threads (destroyed)',
      'POST /v1/threads',
      'GET /health',
      'POST /v1/threads (destroyed)',
    ]);
    await c.close();
  });
});
