// The runtime client: SSE parsing across chunk boundaries, typed errors, and a follower that resumes without gaps or repeats.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntimeClient, createSseParser, RuntimeApiError, RuntimeUnavailableError, type RuntimeEvent } from '../../lib/runtime-client.js';

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
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const s = createServer(handler);
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
    const url = await listen((req, res) => {
      req.socket.once('close', () => closed());
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","version":"t"}');
    });
    const c = createRuntimeClient({ url, token: 'x'.repeat(20) });
    await c.health();
    await c.close();
    await connectionClosed;
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
});
