// grammY's Api on the bridge's node:http fetch, against 127.0.0.1 servers: answers, failures and their one-line descriptions, grammY's timeout and aborts.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { botApiFetch, createBotApiFetch } from '../../../bridges/telegram/bot-api-fetch.js';
import { describeTelegramError } from '../../../bridges/telegram/failures.js';
import { Api, GrammyError, HttpError, telegramFetch } from '../../../bridges/telegram/grammy.js';
import { freePort } from '../../support/wait.js';
import { dropReusedConnections } from '../../support/stale-socket.js';

const TOKEN = '123456789:AAsecretTokenThatMustNotLeak_0123456789';
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

interface Seen {
  url: string;
  type: string | undefined;
  body: string;
}

/** A Bot API stand-in; `closed` resolves when its first connection closes (watched from the accept, so also one closed before its request arrived). */
async function botApi(handler: (seen: Seen, res: ServerResponse, req: IncomingMessage) => void): Promise<{ root: string; seen: Seen[]; closed: Promise<void> }> {
  const seen: Seen[] = [];
  let closed!: () => void;
  const firstClosed = new Promise<void>((r) => (closed = r));
  const s = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const entry = { url: req.url ?? '', type: req.headers['content-type'], body };
      seen.push(entry);
      handler(entry, res, req);
    });
  });
  let accepted = 0;
  s.on('connection', (socket) => {
    if (accepted++ === 0) socket.once('close', () => closed());
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { root: `http://127.0.0.1:${(s.address() as { port: number }).port}`, seen, closed: firstClosed };
}

const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

describe('grammY on botApiFetch', () => {
  it('posts the JSON payload and hands back the result', async () => {
    const api = await botApi((_seen, res) => json(res, 200, { ok: true, result: { message_id: 7, date: 0, chat: { id: 1, type: 'private' } } }));
    const client = new Api(TOKEN, { apiRoot: api.root, fetch: telegramFetch });
    await expect(client.sendMessage(1, 'hi')).resolves.toMatchObject({ message_id: 7 });
    expect(api.seen).toEqual([{ url: `/bot${TOKEN}/sendMessage`, type: 'application/json', body: '{"chat_id":1,"text":"hi"}' }]);
  });

  it('a Telegram error answer becomes GrammyError with its code', async () => {
    const api = await botApi((_seen, res) => json(res, 400, { ok: false, error_code: 400, description: 'Bad Request: chat not found' }));
    const client = new Api(TOKEN, { apiRoot: api.root, fetch: telegramFetch });
    const err = await client.sendMessage(1, 'hi').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrammyError);
    expect(describeTelegramError(err)).toBe('sendMessage: 400 Bad Request: chat not found');
  });

  it('an answer that is not JSON fails the call and is described by its status, without the token', async () => {
    // A proxy's page that repeats the URL it was asked for: the token must not travel from it into any error.
    const api = await botApi((seen, res) => res.writeHead(502, { 'content-type': 'text/html' }).end(`<html>Bad Gateway for ${seen.url}</html>`));
    const client = new Api(TOKEN, { apiRoot: api.root, fetch: telegramFetch });
    const err = await client.getMe().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(describeTelegramError(err, 'getMe')).toBe('getMe: HTTP 502, not JSON');
    const inner = (err as HttpError).error as Error & Record<string, unknown>;
    const everything = [(err as Error).message, (err as Error).stack, String(inner), inner.stack, JSON.stringify(inner), ...Object.values(inner).map(String)];
    expect(everything.join('\n')).not.toContain('AAsecret');
    // The page did carry it, so the assertion above could fail.
    expect(api.seen[0]!.url).toContain('AAsecret');
  });

  it('an answer over 32 MiB is refused before it is read', async () => {
    const api = await botApi((_seen, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(40 * 1024 * 1024) });
      res.write('{"ok":true,"result":');
    });
    const client = new Api(TOKEN, { apiRoot: api.root, fetch: telegramFetch });
    const err = await client.getMe().catch((e: unknown) => e);
    expect(describeTelegramError(err, 'getMe')).toBe('getMe: the response body is larger than 33554432 bytes');
    await api.closed;
  });

  it('a kept-alive socket closed under getUpdates is polled again at once; under sendMessage it is not (the core resends that)', async () => {
    const drop = dropReusedConnections((req, res) => {
      if (req.url?.endsWith('/getUpdates')) return json(res, 200, { ok: true, result: [] });
      json(res, 200, { ok: true, result: { id: 1, is_bot: true, first_name: 'b', username: 'b_bot' } });
    });
    const api = await botApi((_seen, res, req) => drop.handler(req, res));
    const client = new Api(TOKEN, { apiRoot: api.root, fetch: telegramFetch });
    await client.getMe();
    await expect(client.getUpdates({ offset: 5, timeout: 0 })).resolves.toEqual([]);
    await client.getMe();
    const err = await client.sendMessage(1, 'once').catch((e: unknown) => e);
    expect(describeTelegramError(err, 'sendMessage')).toMatch(/^sendMessage: network error \((ECONNRESET|EPIPE)\)$/);
    expect(api.seen.map((s) => s.url.replace(`/bot${TOKEN}/`, ''))).toEqual(['getMe', 'getUpdates', 'getUpdates', 'getMe', 'sendMessage']);
  });

  it('a method other than getUpdates gets no answer in time and fails; a long poll is left to grammY', async () => {
    const api = await botApi((seen, res) => {
      // The poll is answered later than the others' timeout; the others never.
      if (seen.url.endsWith('/getUpdates')) setTimeout(() => json(res, 200, { ok: true, result: [] }), 400);
    });
    const client = new Api(TOKEN, { apiRoot: api.root, fetch: createBotApiFetch({ headersTimeoutMs: 100 }) as unknown as typeof telegramFetch });
    const err = await client.sendMessage(1, 'hi').catch((e: unknown) => e);
    expect(describeTelegramError(err, 'sendMessage')).toBe('sendMessage: timed out (no response within 100 ms)');
    await expect(client.getUpdates({ timeout: 1 })).resolves.toEqual([]);
  });

  it('a closed port is a network error naming the socket error', async () => {
    const client = new Api(TOKEN, { apiRoot: `http://127.0.0.1:${await freePort()}`, fetch: telegramFetch });
    const err = await client.getMe().catch((e: unknown) => e);
    expect(describeTelegramError(err, 'getMe')).toBe('getMe: network error (ECONNREFUSED)');
  });

  it("grammY's own timeout is described as timed out, and the hung connection is closed", async () => {
    const api = await botApi(() => {});
    const client = new Api(TOKEN, { apiRoot: api.root, fetch: telegramFetch, timeoutSeconds: 0.1 });
    const err = await client.getMe().catch((e: unknown) => e);
    expect(describeTelegramError(err, 'getMe')).toBe('getMe: timed out');
    await api.closed;
  });

  it("the caller's abort (the poller's stop or watchdog) ends a long poll at once and closes its connection", async () => {
    let polled!: () => void;
    const pollArrived = new Promise<void>((r) => (polled = r));
    const api = await botApi(() => polled());
    const client = new Api(TOKEN, { apiRoot: api.root, fetch: telegramFetch });
    const ac = new AbortController();
    const poll = client.getUpdates({ timeout: 30 }, ac.signal as Parameters<Api['getUpdates']>[1]).catch((e: unknown) => e);
    await pollArrived;
    ac.abort();
    expect(await poll).toBeInstanceOf(HttpError);
    await api.closed;
  });
});

describe('botApiFetch', () => {
  it('streams a body given as a stream of bytes (an upload)', async () => {
    const api = await botApi((seen, res) => json(res, 200, { got: seen.body }));
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('part one, '));
        c.enqueue(new TextEncoder().encode('part two'));
        c.close();
      },
    });
    const res = await botApiFetch(`${api.root}/upload`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: stream });
    await expect(res.json()).resolves.toEqual({ got: 'part one, part two' });
  });

  it('refuses a body it cannot send, saying what it takes', async () => {
    await expect(botApiFetch('http://127.0.0.1:9/x', { method: 'POST', body: { not: 'bytes' } })).rejects.toThrow(/a string, bytes or a stream of bytes/);
  });
});
