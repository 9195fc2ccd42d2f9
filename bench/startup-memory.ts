// Figures: spawn to first 200 from /health, and the runtime's resident memory idle and after load.
import { spread, runBenchmark, type Figure } from './support/figures.js';
import { watchedThreads, withRuntime } from './support/load.js';
import { startInstantModel, startRuntime } from './support/processes.js';

const STARTS = 7;
const LOAD_TURNS = 2000;
const SETTLE_MS = 1500;
/** A smaller young generation: V8 keeps the semi-spaces it grew under load, which is most of the growth. */
const SMALL_YOUNG_GENERATION = '--max-semi-space-size=1';

const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

async function measureMemory(modelUrl: string, rounds: number, env: Record<string, string> = {}): Promise<{ idle: number; afterRound: number[] }> {
  return withRuntime({ modelUrl, env }, async (rt, client) => {
    await settle();
    const idle = rt.rssMb();
    const { threads, watcher } = await watchedThreads(client, 50);
    const afterRound: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const ends: Promise<unknown>[] = [];
      for (let i = 0; i < LOAD_TURNS; i++) ends.push(watcher.waitFor((await client.postTurn(threads[i % threads.length]!, `load ${round}.${i}`)).id, 300_000));
      await Promise.all(ends);
      await settle();
      afterRound.push(rt.rssMb());
    }
    watcher.stop();
    return { idle, afterRound };
  });
}

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
    // A second round tells a high-water mark (flat) from a leak (still growing).
    const plain = await measureMemory(model.url, 2);
    const small = await measureMemory(model.url, 1, { NODE_OPTIONS: SMALL_YOUNG_GENERATION });
    const s = spread(starts);
    const goal = { kind: 'below', value: 70 } as const;
    return [
      { name: 'start to healthy, p50', value: s.p50, unit: 'ms', goal: { kind: 'below', value: 500 }, detail: `${s.n} starts, each with a fresh state dir` },
      { name: 'start to healthy, slowest', value: s.max, unit: 'ms', goal: { kind: 'below', value: 500 }, detail: 'spawn of node dist/cli/main.js runtime to the first 200 from /health' },
      { name: 'runtime RSS, idle after start', value: plain.idle, unit: 'MB', goal, detail: `VmRSS ${SETTLE_MS} ms after healthy` },
      { name: `runtime RSS, idle after ${LOAD_TURNS} turns`, value: plain.afterRound[0]!, unit: 'MB', goal, detail: `VmRSS ${SETTLE_MS} ms after the last turn` },
      { name: `runtime RSS, idle after ${2 * LOAD_TURNS} turns`, value: plain.afterRound[1]!, unit: 'MB', goal, detail: `a second round of ${LOAD_TURNS}: growth here would mean a leak` },
      { name: `runtime RSS, idle after ${LOAD_TURNS} turns, NODE_OPTIONS=${SMALL_YOUNG_GENERATION}`, value: small.afterRound[0]!, unit: 'MB', goal, detail: `idle after start ${small.idle.toFixed(1)} MB` },
    ] satisfies Figure[];
  } finally {
    await model.stop();
  }
});
