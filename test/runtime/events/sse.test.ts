// The event stream: replay after a cursor, live events with no gap or duplicate at the seam, pings, slow clients.
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime, type TestRuntimeOptions } from '../../support/runtime.js';
import type { SseStream } from '../../support/sse.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function runtime(env: Record<string, string> = {}, options: TestRuntimeOptions = {}): Promise<TestRuntime> {
  const rt = await startTestRuntime(env, options);
  cleanups.push(() => rt.stop());
  return rt;
}

async function open(rt: TestRuntime, path: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const s = await rt.events(path, headers);
  cleanups.push(() => s.close());
  return s;
}

const seqs = (s: SseStream) => s.events.map((e) => Number(e.id));

describe('event stream', () => {
  it('frames each event with id, event and data carrying the envelope', async () => {
    const rt = await runtime();
    const t = await rt.newThread({ title: 'framed' });
    const s = await open(rt, '/v1/events?after=0');
    const created = await s.waitFor((e) => e.event === 'thread.created');
    expect(created.id).toBe(String(created.data.seq));
    expect(created.data).toMatchObject({ type: 'thread.created', thread_id: t.id, turn_id: null, at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(created.data.thread).toMatchObject({ id: t.id, title: 'framed' });
    expect(s.response.headers['content-type']).toMatch(/^text\/event-stream/);
    const turn = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'shape' });
    const queued = await s.waitFor((e) => e.event === 'turn.queued');
    expect(queued.data).toMatchObject({ thread_id: t.id, turn_id: turn.body.id, input: 'shape' });
  });

  it('replays only events after ?after= or Last-Event-ID, then goes live; ?after= wins', async () => {
    const rt = await runtime();
    const t = await rt.newThread();
    const all = await open(rt, '/v1/events?after=0');
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'some events' });
    await all.waitFor((e) => e.event === 'turn.completed');
    const cursor = Number(all.events[2]!.id);
    const byQuery = await open(rt, `/v1/events?after=${cursor}`);
    const byHeader = await open(rt, '/v1/events', { 'last-event-id': String(cursor) });
    const both = await open(rt, `/v1/events?after=${cursor + 1}`, { 'last-event-id': '0' });
    const expected = seqs(all).filter((x) => x > cursor);
    await byQuery.waitFor((e) => Number(e.id) === expected.at(-1));
    await byHeader.waitFor((e) => Number(e.id) === expected.at(-1));
    await both.waitFor((e) => Number(e.id) === expected.at(-1));
    expect(seqs(byQuery)).toEqual(expected);
    expect(seqs(byHeader)).toEqual(expected);
    expect(seqs(both)).toEqual(expected.slice(1));
    // …and live afterwards.
    const next = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'live now' });
    await byHeader.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === next.body.id);
  });

  it('without a cursor streams only new events', async () => {
    const rt = await runtime();
    await rt.newThread({ title: 'before' });
    const s = await open(rt, '/v1/events');
    const after = await rt.newThread({ title: 'after' });
    const ev = await s.waitFor((e) => e.event === 'thread.created');
    expect(ev.data.thread_id).toBe(after.id);
    expect(s.events).toHaveLength(1);
  });

  it('streams opened while events pour in see every seq once, in order, with no gap', async () => {
    const rt = await runtime({ TETHER_WORKERS: '4' });
    const threads = await Promise.all([1, 2, 3].map(() => rt.newThread()));
    const first = await open(rt, '/v1/events?after=0');
    const turnIds: string[] = [];
    for (const t of threads) turnIds.push((await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: '!slow 3 ' + 'word '.repeat(60) })).body.id);
    // Join at different moments of the burst, from the start and from the middle.
    const late: SseStream[] = [];
    for (let i = 0; i < 4; i++) {
      await first.waitFor((e) => e.event === 'message.delta' && Number(e.id) > first.events.length / 2);
      late.push(await open(rt, i % 2 === 0 ? '/v1/events?after=0' : `/v1/events?after=${Math.floor(first.events.length / 2)}`));
    }
    for (const id of turnIds) await first.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === id, 20_000);
    const last = Number(first.events.at(-1)!.id);
    const full = seqs(first);
    expect(full).toEqual(Array.from({ length: full.length }, (_, i) => i + 1));
    for (const s of late) {
      await s.waitFor((e) => Number(e.id) === last);
      const got = seqs(s);
      const start = got[0]!;
      expect(got).toEqual(Array.from({ length: last - start + 1 }, (_, i) => start + i));
    }
  });

  it('a thread stream carries only that thread’s events', async () => {
    const rt = await runtime();
    const a = await rt.newThread();
    const b = await rt.newThread();
    const s = await open(rt, `/v1/threads/${a.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${b.id}/turns`, { input: 'not for a' });
    const mine = await rt.api('POST', `/v1/threads/${a.id}/turns`, { input: 'for a' });
    await s.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === mine.body.id);
    expect(s.events.every((e) => e.data.thread_id === a.id)).toBe(true);
    expect((await rt.api('GET', '/v1/threads/thr_missing/events')).status).toBe(404);
  });

  it('sends a comment line on the ping interval', async () => {
    const rt = await runtime({}, { streams: { pingMs: 50 } });
    const s = await open(rt, '/v1/events');
    await s.waitForComment((c) => c === 'ping');
  });

  it('drops a client that stops reading without holding up the others', async () => {
    const rt = await runtime({}, { streams: { maxBufferedBytes: 512 * 1024 } });
    const t = await rt.newThread();
    const reader = await open(rt, '/v1/events');
    // A client that sends the request and then never reads a byte.
    const stalled = connect(rt.port, '127.0.0.1');
    cleanups.push(() => void stalled.destroy());
    await new Promise<void>((r) => stalled.once('connect', () => r()));
    stalled.pause();
    stalled.write(`GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${rt.token}\r\n\r\n`);
    const clients = async () => Number(/^tether_sse_clients (\d+)$/m.exec((await rt.api('GET', '/metrics')).body as string)![1]);
    while ((await clients()) < 2) await new Promise((r) => setTimeout(r, 20));
    // Each turn streams about 300 KB (input in turn.queued, deltas, output); kernel buffers fill first.
    const big = 'x'.repeat(100 * 1024);
    const ids: string[] = [];
    let dropped = false;
    for (let i = 0; i < 100 && !dropped; i++) {
      ids.push((await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: big + i })).body.id);
      await reader.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === ids.at(-1), 20_000);
      dropped = (await clients()) === 1;
    }
    expect(dropped).toBe(true);
    // The reader got everything of every turn.
    expect(reader.events.filter((e) => e.event === 'turn.completed')).toHaveLength(ids.length);
  });
  it('replays big history to a client that does not read with bounded buffering, drops it, and it resumes by cursor', async () => {
    const rt = await runtime({ TETHER_CONTEXT_CHARS: '0' }, { streams: { drainTimeoutMs: 300 } });
    const t = await rt.newThread();
    const reader = await open(rt, '/v1/events');
    // About 0.9 MB of events per turn (input, echoed deltas, output): in all far more than the kernel's socket buffers.
    const big = 'y'.repeat(300 * 1024);
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      ids.push((await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: big + i })).body.id);
      await reader.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === ids.at(-1), 20_000);
    }
    reader.close();
    const metric = async (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec((await rt.api('GET', '/metrics')).body as string)![1]);
    while ((await metric('tether_sse_clients')) > 0) await new Promise((r) => setTimeout(r, 10));

    const stalled = connect(rt.port, '127.0.0.1');
    cleanups.push(() => void stalled.destroy());
    await new Promise<void>((r) => stalled.once('connect', () => r()));
    stalled.pause();
    stalled.write(`GET /v1/events?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${rt.token}\r\n\r\n`);
    const samples: number[] = [];
    let connected = false;
    for (;;) {
      const clients = await metric('tether_sse_clients');
      if (clients > 0) connected = true;
      if ((connected && clients === 0) || samples.length > 300) break;
      samples.push(await metric('tether_sse_buffered_bytes'));
      await new Promise((r) => setTimeout(r, 10));
    }
    // At most the small replay threshold plus one event (each under 1 MiB of text) waits in the runtime.
    expect(Math.max(...samples)).toBeGreaterThan(0);
    expect(Math.max(...samples)).toBeLessThan(1.5 * 1024 * 1024);

    const resumed = await open(rt, '/v1/events?after=0');
    await resumed.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === ids.at(-1), 20_000);
    expect(resumed.events.filter((e) => e.event === 'turn.completed').map((e) => e.data.turn_id)).toEqual(ids);
  }, 60_000);
});
