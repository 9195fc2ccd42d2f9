// Figure: turns per second with 50 threads posting at once, until every turn.completed is seen on /v1/events.
import { runBenchmark, type Figure } from './support/figures.js';
import { watchedThreads, withRuntime } from './support/load.js';
import { startInstantModel } from './support/processes.js';

const THREADS = 50;
const TURNS_PER_THREAD = 60;

async function measure(modelUrl: string, workers: number | undefined): Promise<{ perSecond: number; turns: number; seconds: number; failed: number }> {
  return withRuntime({ modelUrl, env: workers === undefined ? {} : { TETHER_WORKERS: String(workers) } }, async (_rt, client) => {
    const { threads, watcher } = await watchedThreads(client, THREADS);
    // A short warm-up so JIT and connection set-up are not in the figure.
    await Promise.all(threads.slice(0, 10).map(async (t) => watcher.waitFor((await client.postTurn(t, 'warm-up')).id)));

    const started = performance.now();
    const ends: Array<Promise<{ type: string; seenAt: number }>> = [];
    // One poster per thread, each posting its turns one after another without waiting for replies.
    await Promise.all(
      threads.map(async (t) => {
        for (let i = 0; i < TURNS_PER_THREAD; i++) ends.push(watcher.waitFor((await client.postTurn(t, `turn ${i}`)).id, 300_000));
      }),
    );
    const results = await Promise.all(ends);
    const last = Math.max(...results.map((r) => r.seenAt));
    watcher.stop();
    const seconds = (last - started) / 1000;
    return { perSecond: results.length / seconds, turns: results.length, seconds, failed: results.filter((r) => r.type !== 'turn.completed').length };
  });
}

runBenchmark('turn-throughput', async () => {
  const model = await startInstantModel();
  try {
    const base = await measure(model.url, undefined);
    const wide = await measure(model.url, 8);
    const figures: Figure[] = [
      {
        name: `turn throughput, ${THREADS} threads, TETHER_WORKERS=2 (default)`,
        value: base.perSecond,
        unit: 'turns/s',
        goal: { kind: 'atLeast', value: 300 },
        detail: `${base.turns} turns in ${base.seconds.toFixed(2)} s, ${base.failed} not completed`,
      },
      {
        name: `turn throughput, ${THREADS} threads, TETHER_WORKERS=8`,
        value: wide.perSecond,
        unit: 'turns/s',
        detail: `${wide.turns} turns in ${wide.seconds.toFixed(2)} s, ${wide.failed} not completed`,
      },
    ];
    if (base.failed + wide.failed > 0) throw new Error(`some turns did not complete: ${JSON.stringify({ base, wide })}`);
    return figures;
  } finally {
    await model.stop();
  }
});
