// Figures: spawn to first 200 from /health, and the runtime's resident memory idle and after load.
import { spread, runBenchmark, type Figure } from './support/figures.js';
import { clientOf, createThreads, currentSeq, TurnEndWatcher } from './support/load.js';
import { startInstantModel, startRuntime } from './support/processes.js';

const STARTS = 7;
const LOAD_TURNS = 2000;
const SETTLE_MS = 1500;

const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

runBenchmark('startup-memory', async () => {
  const model = await startInstantModel();
  try {
    // Fresh state dir each time: the first start also creates the database and the token.
    const starts: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const rt = await startRuntime({ modelUrl: model.url });
      starts.push(rt.startToHealthyMs);
      await rt.stop();
    }

    const rt = await startRuntime({ modelUrl: model.url });
    const client = clientOf(rt);
    try {
      await settle();
      const idleRss = rt.rssMb();
      const threads = await createThreads(client, 50);
      const watcher = new TurnEndWatcher(client, await currentSeq(client, threads));
      await watcher.ready;
      const ends: Promise<unknown>[] = [];
      for (let i = 0; i < LOAD_TURNS; i++) ends.push(watcher.waitFor((await client.postTurn(threads[i % threads.length]!, `load ${i}`)).id, 300_000));
      await Promise.all(ends);
      watcher.stop();
      await settle();
      const loadedRss = rt.rssMb();
      const s = spread(starts);
      return [
        { name: 'start to healthy, p50', value: s.p50, unit: 'ms', goal: { kind: 'below', value: 500 }, detail: `${s.n} starts with a fresh state dir, max ${s.max.toFixed(0)} ms` },
        { name: 'runtime RSS, idle after start', value: idleRss, unit: 'MB', goal: { kind: 'below', value: 70 }, detail: `VmRSS ${SETTLE_MS} ms after healthy` },
        { name: `runtime RSS, idle after ${LOAD_TURNS} turns`, value: loadedRss, unit: 'MB', goal: { kind: 'below', value: 70 }, detail: `VmRSS ${SETTLE_MS} ms after the last turn` },
      ] satisfies Figure[];
    } finally {
      await client.close();
      await rt.stop();
    }
  } finally {
    await model.stop();
  }
});
