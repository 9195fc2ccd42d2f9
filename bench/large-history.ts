// Figures: GET of a thread and SSE resume when runtime.db already holds 100,000 events (seeded with the runtime's own store).
import { join } from 'node:path';
import { request } from 'undici';
import { silentLogger } from '../lib/log.js';
import { newId } from '../lib/ids.js';
import { DB_FILE, RuntimeStore } from '../runtime/store/store.js';
import { spread, runBenchmark, type Figure } from './support/figures.js';
import { clientOf } from './support/load.js';
import { freshDir, startInstantModel, startRuntime } from './support/processes.js';
import { rmSync } from 'node:fs';

const THREADS = 10;
const TURNS_PER_THREAD = 2500; // 4 events a turn + thread.created: 100,010 events
const SAMPLES = 200;

/** Writes finished turns the way the runtime would, in one transaction, so the schema and indexes are the real ones. */
function seed(stateDir: string): { threadIds: string[]; events: number; lastSeq: number } {
  const store = RuntimeStore.open(join(stateDir, DB_FILE), { model: 'instant', approval: 'auto' }, silentLogger);
  try {
    const threadIds: string[] = [];
    store.write(() => {
      for (let t = 0; t < THREADS; t++) {
        const thread = store.insertThread({ id: newId('thr'), title: `history ${t}`, model: null, approval: null, metadata: { platform: 'bench', conversation: String(t) } });
        threadIds.push(thread.id);
        for (let i = 0; i < TURNS_PER_THREAD; i++) {
          const id = newId('turn');
          store.insertTurn({ id, threadId: thread.id, input: `question ${i} of a long conversation`, idempotencyKey: null });
          store.markTurnStarted(id);
          store.appendEvent('turn.started', thread.id, id);
          const output = `answer ${i}: ${'a fairly ordinary sentence of reply text. '.repeat(3)}`;
          store.appendEvent('message.delta', thread.id, id, { text: output });
          store.finishTurn(id, 'completed', { output });
          store.appendEvent('turn.completed', thread.id, id, { output });
        }
      }
    });
    const lastSeq = store.lastSeq();
    const events = (store.db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
    return { threadIds, events, lastSeq };
  } finally {
    store.close();
  }
}

/** Opens an SSE stream and resolves with the milliseconds until its first event (not a comment) arrived. */
async function timeToFirstEvent(url: string, token: string): Promise<number> {
  const controller = new AbortController();
  const t0 = performance.now();
  const res = await request(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: controller.signal });
  if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}`);
  let text = '';
  try {
    for await (const chunk of res.body) {
      text += (chunk as Buffer).toString('utf8');
      if (/^data:/m.test(text)) return performance.now() - t0;
    }
    throw new Error(`${url} ended before its first event`);
  } finally {
    controller.abort();
    res.body.destroy();
  }
}

/** Reads a whole replay until the event with `lastSeq`; resolves with milliseconds and events read. */
async function timeFullReplay(url: string, token: string, lastSeq: number): Promise<{ ms: number; events: number }> {
  const controller = new AbortController();
  const t0 = performance.now();
  const res = await request(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: controller.signal });
  let tail = '';
  let events = 0;
  const end = `id: ${lastSeq}\n`;
  try {
    for await (const chunk of res.body) {
      const text = tail + (chunk as Buffer).toString('utf8');
      events += (text.match(/^data:/gm) ?? []).length - (tail.match(/^data:/gm) ?? []).length;
      if (text.includes(end)) return { ms: performance.now() - t0, events };
      tail = text.slice(-200);
    }
    throw new Error('the replay ended early');
  } finally {
    controller.abort();
    res.body.destroy();
  }
}

runBenchmark('large-history', async () => {
  const stateDir = freshDir('history');
  const seedStarted = performance.now();
  const seeded = seed(stateDir);
  const seedMs = performance.now() - seedStarted;
  process.stdout.write(`seeded ${seeded.events} events in ${(seedMs / 1000).toFixed(1)} s\n`);
  const model = await startInstantModel();
  const rt = await startRuntime({ modelUrl: model.url, stateDir });
  const client = clientOf(rt);
  try {
    const target = seeded.threadIds[seeded.threadIds.length - 1]!;
    for (let i = 0; i < 20; i++) await client.getThread(target);
    const gets: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t0 = performance.now();
      const thread = await client.getThread(seeded.threadIds[i % THREADS]!);
      gets.push(performance.now() - t0);
      if ((thread.turns?.length ?? 0) === 0) throw new Error('a seeded thread came back without turns');
    }
    const resumeAll: number[] = [];
    const resumeThread: number[] = [];
    for (let i = 0; i < 50; i++) {
      const after = seeded.lastSeq - 1 - (i % 5);
      resumeAll.push(await timeToFirstEvent(`${rt.url}/v1/events?after=${after}`, rt.token));
      resumeThread.push(await timeToFirstEvent(`${rt.url}/v1/threads/${target}/events?after=${after}`, rt.token));
    }
    const replay = await timeFullReplay(`${rt.url}/v1/events?after=0`, rt.token, seeded.lastSeq);
    const g = spread(gets);
    const r = spread(resumeAll);
    const rt1 = spread(resumeThread);
    return [
      { name: 'GET /v1/threads/:id with 100k events stored, p50', value: g.p50, unit: 'ms', detail: `${g.n} GETs, 50 turns each, ${seeded.events} events stored` },
      { name: 'GET /v1/threads/:id with 100k events stored, p99', value: g.p99, unit: 'ms', goal: { kind: 'below', value: 10 } },
      { name: 'SSE resume /v1/events near the end → first event, p99', value: r.p99, unit: 'ms', goal: { kind: 'below', value: 10 }, detail: `p50 ${r.p50.toFixed(2)} ms, ${r.n} resumes` },
      { name: 'SSE resume /v1/threads/:id/events near the end → first event, p99', value: rt1.p99, unit: 'ms', goal: { kind: 'below', value: 10 }, detail: `p50 ${rt1.p50.toFixed(2)} ms` },
      { name: 'SSE full replay of every stored event', value: replay.ms, unit: 'ms', detail: `${replay.events} events, ${(replay.events / (replay.ms / 1000)).toFixed(0)} events/s` },
    ] satisfies Figure[];
  } finally {
    await client.close();
    await rt.stop();
    await model.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
});
