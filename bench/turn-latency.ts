// Figure: end-to-end turn latency with an instant model: POST to its turn.completed read off the SSE stream.
import { spread, runBenchmark, type Figure } from './support/figures.js';
import { watchedThreads, withRuntime } from './support/load.js';
import { startInstantModel } from './support/processes.js';

const WARMUP = 50;
const SAMPLES = 400;
const THREADS = 10;

runBenchmark('turn-latency', async () => {
  const model = await startInstantModel();
  try {
    return await withRuntime({ modelUrl: model.url }, async (_rt, client) => {
      const { threads, watcher } = await watchedThreads(client, THREADS);
      const samples: number[] = [];
      for (let i = 0; i < WARMUP + SAMPLES; i++) {
        const t0 = performance.now();
        const turn = await client.postTurn(threads[i % THREADS]!, `hello ${i}`);
        const end = await watcher.waitFor(turn.id);
        if (end.type !== 'turn.completed') throw new Error(`turn ${turn.id} ended with ${end.type}`);
        if (i >= WARMUP) samples.push(end.seenAt - t0);
      }
      watcher.stop();
      const s = spread(samples);
      return [
        { name: 'turn latency (POST → turn.completed on SSE), p50', value: s.p50, unit: 'ms', detail: `${s.n} turns one at a time over ${THREADS} threads` },
        { name: 'turn latency (POST → turn.completed on SSE), p99', value: s.p99, unit: 'ms', detail: `max ${s.max.toFixed(2)} ms` },
      ] satisfies Figure[];
    });
  } finally {
    await model.stop();
  }
});
