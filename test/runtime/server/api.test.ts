// The HTTP surface against a real runtime: guards, error shapes, thread routes, metrics.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRequest, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

let rt: TestRuntime;
beforeAll(async () => {
  rt = await startTestRuntime({ TETHER_ALLOWED_ORIGINS: 'http://localhost:3000' });
});
afterAll(async () => {
  await rt.stop();
});

/** node:http rather than fetch: fetch will not send a forged Host header. */
function rawRequest(path: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(rt.url + path, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('guards', () => {
  it('serves /health without a token and /v1 only with the right one', async () => {
    expect((await apiRequest(rt.url, undefined, 'GET', '/health')).status).toBe(200);
    const none = await apiRequest(rt.url, undefined, 'GET', '/v1/threads');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthorized');
    expect((await apiRequest(rt.url, 'x'.repeat(40), 'GET', '/v1/threads')).status).toBe(401);
    expect((await apiRequest(rt.url, rt.token + 'x', 'GET', '/v1/threads')).status).toBe(401);
    expect((await apiRequest(rt.url, undefined, 'GET', '/v1/threads', undefined, { authorization: rt.token })).status).toBe(401);
    // Unknown routes under /v1 do not reveal themselves to a caller without the token.
    expect((await apiRequest(rt.url, undefined, 'GET', '/v1/nothing')).status).toBe(401);
    expect((await rt.api('GET', '/v1/threads')).status).toBe(200);
  });

  it('refuses a Host that is not loopback (DNS rebinding), even with the token', async () => {
    const evil = await rawRequest('/v1/threads', { host: 'evil.example:7878', authorization: `Bearer ${rt.token}` });
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.body).error.code).toBe('forbidden_host');
    expect((await rawRequest('/health', { host: 'attacker.test' })).status).toBe(403);
    expect((await rawRequest('/health', { host: `localhost:${rt.port}` })).status).toBe(200);
    expect((await rawRequest('/health', { host: `[::1]:${rt.port}` })).status).toBe(200);
  });

  it('refuses an Origin header unless it is configured', async () => {
    const browser = await rt.api('GET', '/v1/threads', undefined, { origin: 'https://evil.example' });
    expect(browser.status).toBe(403);
    expect(browser.body.error.code).toBe('forbidden_origin');
    expect((await rt.api('GET', '/v1/threads', undefined, { origin: 'http://localhost:3000' })).status).toBe(200);
  });
});

describe('errors', () => {
  it('answers 413 for a body over 1 MiB', async () => {
    const res = await rt.api('POST', '/v1/threads', JSON.stringify({ title: 'x'.repeat(1024 * 1024 + 10) }));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('body_too_large');
  });

  it('answers 400 naming the field for malformed JSON and wrong fields', async () => {
    const cases: Array<[unknown, RegExp]> = [
      ['{"title": ', /not valid JSON/],
      [[1, 2], /JSON object/],
      [{ title: 5 }, /field title/],
      [{ approval: 'sometimes' }, /field approval/],
      [{ metadata: { a: 1 } }, /metadata\.a/],
      [{ titel: 'typo' }, /field titel: unknown/],
    ];
    for (const [body, message] of cases) {
      const res = await rt.api('POST', '/v1/threads', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('bad_request');
      expect(res.body.error.message).toMatch(message);
    }
    const thread = await rt.newThread();
    const noInput = await rt.api('POST', `/v1/threads/${thread.id}/turns`, { input: '' });
    expect(noInput.status).toBe(400);
    expect(noInput.body.error.message).toMatch(/field input/);
    const badPatch = await rt.api('PATCH', `/v1/threads/${thread.id}`, { archived: 'yes' });
    expect(badPatch.status).toBe(400);
    expect(badPatch.body.error.message).toMatch(/field archived/);
    expect((await rt.api('GET', '/v1/threads?limit=0')).status).toBe(400);
    expect((await rt.api('GET', '/v1/events?after=abc')).status).toBe(400);
  });

  it('answers 404 for unknown ids and routes, 405 for a wrong method', async () => {
    const missing = await rt.api('GET', '/v1/threads/thr_nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual({ code: 'not_found', message: expect.any(String) });
    const thread = await rt.newThread();
    expect((await rt.api('GET', `/v1/threads/${thread.id}/turns/turn_nope`)).status).toBe(404);
    expect((await rt.api('POST', `/v1/threads/thr_nope/turns`, { input: 'x' })).status).toBe(404);
    expect((await rt.api('POST', '/v1/approvals/apr_nope', { decision: 'approve' })).status).toBe(404);
    expect((await rt.api('GET', '/v1/elsewhere')).status).toBe(404);
    const wrong = await rt.api('DELETE', '/v1/threads');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toMatch(/GET/);
  });

  it('says schedules come later with 501', async () => {
    const res = await rt.api('GET', '/v1/schedules');
    expect(res.status).toBe(501);
    expect(res.body.error.code).toBe('not_available');
    expect(res.body.error.message).toMatch(/later release/);
  });
});

describe('threads', () => {
  it('creates a thread in the contract shape with runtime defaults', async () => {
    const t = await rt.newThread({ title: 'Groceries', metadata: { platform: 'telegram', conversation: '42' } });
    expect(t).toEqual({
      id: expect.stringMatching(/^thr_[A-Za-z0-9_-]{22,}$/),
      title: 'Groceries',
      created_at: expect.any(String),
      updated_at: expect.any(String),
      model: 'fake',
      approval: 'ask',
      metadata: { platform: 'telegram', conversation: '42' },
      archived: false,
      status: 'idle',
      last_seq: expect.any(Number),
    });
    const got = await rt.api('GET', `/v1/threads/${t.id}`);
    expect(got.body).toEqual({ ...t, turns: [] });
  });

  it('moves updated_at when a turn is posted and when it ends, without a thread.updated event', async () => {
    const t = await rt.newThread({ title: 'active' });
    rt.model.enqueue({ hang: true });
    const turn = (await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'hangs' })).body;
    expect((await rt.api('GET', `/v1/threads/${t.id}`)).body.updated_at).toBe(turn.created_at);
    expect(turn.created_at > t.updated_at || turn.created_at === t.updated_at).toBe(true);
    const cancelled = (await rt.api('POST', `/v1/threads/${t.id}/turns/${turn.id}/cancel`)).body;
    expect(cancelled.status).toBe('cancelled');
    expect((await rt.api('GET', `/v1/threads/${t.id}`)).body.updated_at).toBe(cancelled.finished_at);
    const events = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await events.waitFor((e) => e.event === 'turn.cancelled');
    events.close();
    expect(events.events.filter((e) => e.event === 'thread.updated')).toEqual([]);
  });

  it('finds threads by metadata and archived, newest first, limited', async () => {
    const a = await rt.newThread({ metadata: { platform: 'telegram', conversation: 'find-1' } });
    const b = await rt.newThread({ metadata: { platform: 'telegram', conversation: 'find-2' } });
    await rt.newThread({ metadata: { platform: 'feishu', conversation: 'find-1' } });
    const one = await rt.api('GET', '/v1/threads?metadata.platform=telegram&metadata.conversation=find-1');
    expect(one.body.threads.map((t: { id: string }) => t.id)).toEqual([a.id]);
    const both = await rt.api('GET', '/v1/threads?metadata.platform=telegram&limit=2');
    expect(both.body.threads.map((t: { id: string }) => t.id)).toEqual([b.id, a.id]);
    await rt.api('PATCH', `/v1/threads/${a.id}`, { archived: true });
    const live = await rt.api('GET', '/v1/threads?metadata.platform=telegram&archived=false');
    expect(live.body.threads.map((t: { id: string }) => t.id)).not.toContain(a.id);
    const archived = await rt.api('GET', '/v1/threads?archived=true');
    expect(archived.body.threads.map((t: { id: string }) => t.id)).toContain(a.id);
  });

  it('PATCH changes the given fields, null returns to the runtime default, and emits thread.updated with the thread', async () => {
    const t = await rt.newThread({ title: 'old' });
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    const patched = await rt.api('PATCH', `/v1/threads/${t.id}`, { title: 'new', model: 'other-model', approval: 'readonly' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ id: t.id, title: 'new', model: 'other-model', approval: 'readonly' });
    const ev = await stream.waitFor((e) => e.event === 'thread.updated');
    expect(ev.data.thread).toMatchObject({ id: t.id, title: 'new', model: 'other-model' });
    expect(ev.data.thread.last_seq).toBe(ev.data.seq);
    const reset = await rt.api('PATCH', `/v1/threads/${t.id}`, { model: null, approval: null });
    expect(reset.body).toMatchObject({ title: 'new', model: 'fake', approval: 'ask' });
    stream.close();
  });

  it('PATCH metadata replaces it whole: found by the new values, not the old, announced in thread.updated, and kept across a restart', async () => {
    const t = await rt.newThread({ metadata: { platform: 'telegram', conversation: '-4242', chat_kind: 'group', extra: 'old' } });
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    const moved = await rt.api('PATCH', `/v1/threads/${t.id}`, { metadata: { platform: 'telegram', conversation: '-1004242', chat_kind: 'group' } });
    expect(moved.status).toBe(200);
    expect(moved.body.metadata).toEqual({ platform: 'telegram', conversation: '-1004242', chat_kind: 'group' });
    const ev = await stream.waitFor((e) => e.event === 'thread.updated');
    expect(ev.data.thread.metadata).toEqual(moved.body.metadata);
    stream.close();
    const ids = async (q: string) => (await rt.api('GET', `/v1/threads?${q}`)).body.threads.map((x: { id: string }) => x.id);
    expect(await ids('metadata.platform=telegram&metadata.conversation=-1004242')).toEqual([t.id]);
    expect(await ids('metadata.platform=telegram&metadata.conversation=-4242')).toEqual([]);
    expect(await ids('metadata.extra=old')).toEqual([]);
    // Other fields alone leave metadata as it is.
    expect((await rt.api('PATCH', `/v1/threads/${t.id}`, { title: 'renamed' })).body.metadata).toEqual(moved.body.metadata);
    await rt.restart();
    expect((await rt.api('GET', `/v1/threads/${t.id}`)).body.metadata).toEqual(moved.body.metadata);
    expect(await ids('metadata.conversation=-1004242')).toEqual([t.id]);
    const cleared = await rt.api('PATCH', `/v1/threads/${t.id}`, { metadata: {} });
    expect(cleared.body.metadata).toEqual({});
    expect(await ids('metadata.conversation=-1004242')).toEqual([]);
  });

  it('PATCH refuses metadata it would refuse at creation, and changes nothing then', async () => {
    const t = await rt.newThread({ metadata: { platform: 'telegram', conversation: 'keep' } });
    const cases: Array<[unknown, RegExp]> = [
      [null, /field metadata/],
      [['a'], /field metadata/],
      ['platform=telegram', /field metadata/],
      [{ conversation: 42 }, /field metadata\.conversation/],
      [{ conversation: null }, /field metadata\.conversation/],
      [{ '': 'x' }, /keys of 1 to 100/],
      [{ ['k'.repeat(101)]: 'x' }, /keys of 1 to 100/],
      [{ v: 'x'.repeat(1001) }, /at most 1000/],
      [Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])), /at most 32 keys/],
    ];
    for (const [metadata, message] of cases) {
      const res = await rt.api('PATCH', `/v1/threads/${t.id}`, { title: 'not this', metadata });
      expect(res.status, JSON.stringify(metadata).slice(0, 80)).toBe(400);
      expect(res.body.error.message).toMatch(message);
    }
    expect((await rt.api('GET', `/v1/threads/${t.id}`)).body).toMatchObject({ title: '', metadata: { platform: 'telegram', conversation: 'keep' } });
  });
});

describe('threads found again by metadata (reuse)', () => {
  const chat = (conversation: string, bot = 'bot-1') => ({ platform: 'telegram', bot, conversation, chat_kind: 'private' });
  const reuse = ['platform', 'bot', 'conversation'];

  it('answers 200 with the live thread the keys name, creating nothing and announcing nothing; 201 with a new one otherwise', async () => {
    const first = await rt.api('POST', '/v1/threads', { title: 'a', metadata: chat('reuse-1'), reuse });
    expect(first.status).toBe(201);
    const stream = await rt.events(`/v1/events?after=${first.body.last_seq}`);
    const again = await rt.api('POST', '/v1/threads', { title: 'other title', metadata: { ...chat('reuse-1'), chat_kind: 'group' }, reuse });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const otherBot = await rt.api('POST', '/v1/threads', { metadata: chat('reuse-1', 'bot-2'), reuse });
    expect(otherBot.status).toBe(201);
    expect(otherBot.body.id).not.toBe(first.body.id);
    const created = await stream.waitFor((e) => e.event === 'thread.created');
    stream.close();
    expect(created.data.thread.id).toBe(otherBot.body.id);
    const ids = (await rt.api('GET', '/v1/threads?metadata.conversation=reuse-1')).body.threads.map((t: { id: string }) => t.id);
    expect(ids).toEqual([otherBot.body.id, first.body.id]);
  });

  it('passes over archived threads, takes the newest live one, and without reuse always creates', async () => {
    const old = await rt.newThread({ metadata: chat('reuse-2') });
    const newer = await rt.newThread({ metadata: chat('reuse-2') });
    expect((await rt.api('POST', '/v1/threads', { metadata: chat('reuse-2'), reuse })).body.id).toBe(newer.id);
    await rt.api('PATCH', `/v1/threads/${newer.id}`, { archived: true });
    expect((await rt.api('POST', '/v1/threads', { metadata: chat('reuse-2'), reuse })).body.id).toBe(old.id);
    await rt.api('PATCH', `/v1/threads/${old.id}`, { archived: true });
    const fresh = await rt.api('POST', '/v1/threads', { metadata: chat('reuse-2'), reuse });
    expect(fresh.status).toBe(201);
    expect([old.id, newer.id]).not.toContain(fresh.body.id);
    expect((await rt.api('POST', '/v1/threads', { metadata: chat('reuse-2') })).status).toBe(201);
  });

  it('two requests at once make one thread', async () => {
    const [a, b] = await Promise.all([0, 1].map(() => rt.api('POST', '/v1/threads', { metadata: chat('reuse-3'), reuse })));
    expect([a!.status, b!.status].sort()).toEqual([200, 201]);
    expect(a!.body.id).toBe(b!.body.id);
  });

  it('refuses reuse keys that are not keys of metadata, and creates nothing then', async () => {
    const cases: unknown[] = [[], 'conversation', ['conversation', 7], ['missing'], Array.from({ length: 33 }, () => 'platform')];
    for (const bad of cases) {
      const res = await rt.api('POST', '/v1/threads', { metadata: chat('reuse-4'), reuse: bad });
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error.message).toMatch(/field reuse/);
    }
    expect((await rt.api('GET', '/v1/threads?metadata.conversation=reuse-4')).body.threads).toEqual([]);
  });
});

describe('metrics', () => {
  it('serves Prometheus text with turns, queue, seq and latency', async () => {
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'count me' });
    await stream.waitFor((e) => e.event === 'turn.completed');
    stream.close();
    const res = await apiRequest(rt.url, undefined, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    const text = res.body as string;
    expect(text).toMatch(/^tether_turns\{status="completed"\} [1-9]\d*$/m);
    expect(text).toMatch(/^tether_queue_depth 0$/m);
    expect(text).toMatch(/^tether_event_seq [1-9]\d*$/m);
    expect(text).toMatch(/^tether_model_latency_seconds_count [1-9]\d*$/m);
    expect(text).toMatch(/^tether_sse_clients \d+$/m);
    expect(text).toMatch(/^tether_uptime_seconds \d+$/m);
  });
});
