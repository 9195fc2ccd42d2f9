// Figure: time from sending POST /v1/threads/:id/turns to its 202 on a warm runtime, idle and under back-to-back load.
import { spread, runBenchmark, type Figure } from './support/figures.js';
import { watchedThreads, withRuntime } from './support/load.js';
import { startInstantModel } from './support/processes.js';

const WARMUP = 200;
const IDLE_SAMPLES = 500;
const LOADED_SAMPLES = 2000;
const THREADS = 20;
const QUEUED_SAMPLES = 500;

runBenchmark('api-overhead', async () => {
  const model = await startInstantModel();
  try {
    return await withRuntime({ modelUrl: model.url }, async (_rt, client) => {
      const { threads, watcher } = await watchedThreads(client, THREADS);
      const thread = (i: number) => threads[i % THREADS]!;

      const warm: Promise<unknown>[] = [];
      for (let i = 0; i < WARMUP; i++) warm.push(watcher.waitFor((await client.postTurn(thread(i), `warm-up ${i}`)).id));
      await Promise.all(warm);

      // Idle: each POST finds no other work running, the best case a person at a phone sees.
      const idle: number[] = [];
      for (let i = 0; i < IDLE_SAMPLES; i++) {
        const t0 = performance.now();
        const turn = await client.postTurn(thread(i), `idle ${i}`);
        idle.push(performance.now() - t0);
        await watcher.waitFor(turn.id);
      }

      // Under load: POSTs back to back while the workers run the turns already queued.
      const loaded: number[] = [];
      const ends: Promise<unknown>[] = [];
      for (let i = 0; i < LOADED_SAMPLES; i++) {
        const t0 = performance.now();
        const turn = await client.postTurn(thread(i), `loaded ${i}`);
        loaded.push(performance.now() - t0);
        ends.push(watcher.waitFor(turn.id, 120_000));
      }
      await Promise.all(ends);

      // Queued: both workers are held by slow turns, so a POST only commits the turn and answers.
      // The gap between this and "idle" is what starting a turn costs inside the POST.
      const HOLD_MS = 4000;
      const holders = await Promise.all([0, 1].map(async (i) => watcher.waitFor((await client.postTurn(threads[i]!, `!hold ${HOLD_MS}`)).id, 60_000)));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const queued: number[] = [];
      const queuedEnds: Promise<unknown>[] = [];
      const queuedStart = performance.now();
      for (let i = 0; i < QUEUED_SAMPLES && performance.now() - queuedStart < HOLD_MS - 1000; i++) {
        const t0 = performance.now();
        const turn = await client.postTurn(threads[2 + (i % (THREADS - 2))]!, `queued ${i}`);
        queued.push(performance.now() - t0);
        queuedEnds.push(watcher.waitFor(turn.id, 120_000));
      }
      await Promise.all([...holders, ...queuedEnds]);

      const health: number[] = [];
      for (let i = 0; i < 1000; i++) {
        const t0 = performance.now();
        await client.health();
        health.push(performance.now() - t0);
      }
      watcher.stop();

      const a = spread(idle);
      const b = spread(loaded);
      const h = spread(health);
      const q = spread(queued);
      return [
        { name: 'POST turn → 202, idle, p50', value: a.p50, unit: 'ms', detail: `${a.n} requests, one at a time` },
        { name: 'POST turn → 202, idle, p99', value: a.p99, unit: 'ms', goal: { kind: 'below', value: 5 }, detail: `max ${a.max.toFixed(2)} ms` },
        { name: 'POST turn → 202, under load, p50', value: b.p50, unit: 'ms', detail: `${b.n} requests back to back across ${THREADS} threads while turns run` },
        { name: 'POST turn → 202, under load, p99', value: b.p99, unit: 'ms', goal: { kind: 'below', value: 5 }, detail: `max ${b.max.toFixed(2)} ms` },
        { name: 'POST turn → 202, queued behind busy workers, p50', value: q.p50, unit: 'ms', detail: `${q.n} requests while both workers were held: the API path without starting a turn` },
        { name: 'POST turn → 202, queued behind busy workers, p99', value: q.p99, unit: 'ms', goal: { kind: 'below', value: 5 }, detail: `max ${q.max.toFixed(2)} ms` },
        { name: 'GET /health, p99 (HTTP floor)', value: h.p99, unit: 'ms', detail: `p50 ${h.p50.toFixed(2)} ms, ${h.n} requests` },
      ] satisfies Figure[];
    });
  } finally {
    await model.stop();
  }
});
