// Figures of the Feishu bridge (compiled, its own process, the real SDK against the fake open platform): relay overhead, the ack, idle memory and what loading the SDK costs.
import { spawnSync } from 'node:child_process';
import { startFakeFeishu, type FakeChat, type FakeUser } from '../test/fakes/feishu-open-platform.js';
import { spread, runBenchmark, type Figure } from './support/figures.js';
import { REPO_ROOT, readRssMb, spawnCompiledCli, startInstantModel, startRuntime } from './support/processes.js';

const WARMUP = 20;
const SAMPLES = 120;
/** About 8 replies a second across chats, under the bridge's per-app pace, so the figure is the relay and not the pacer. */
const SAMPLE_GAP_MS = 120;
const REPLY = 'ok'; // what the instant model answers
const SETTLE_MS = 1500;

/** RSS of a fresh node that only loads `code` (CommonJS require), in MB: what a module costs before it does anything. */
function rssAfterLoading(code: string): number {
  const out = spawnSync(process.execPath, ['-e', `${code}; global.gc?.(); setTimeout(() => process.stdout.write(String(process.memoryUsage().rss)), 200)`], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`loading failed: ${out.stderr}`);
  return Number(out.stdout) / 2 ** 20;
}

runBenchmark('feishu-relay', async () => {
  const model = await startInstantModel();
  const rt = await startRuntime({ modelUrl: model.url });
  const fake = await startFakeFeishu();
  const users: Array<{ user: FakeUser; chat: FakeChat }> = Array.from({ length: WARMUP + SAMPLES }, (_, i) => {
    const user = fake.user(`User ${i}`);
    return { user, chat: fake.p2pChat(user) };
  });
  const bridge = spawnCompiledCli(
    ['feishu'],
    {
      FEISHU_APP_ID: fake.appId,
      FEISHU_APP_SECRET: fake.appSecret,
      FEISHU_DOMAIN: fake.url,
      FEISHU_ALLOWLIST: users.map((u) => u.user.openId).join(','),
      TETHER_RUNTIME_URL: rt.url,
      TETHER_TOKEN: rt.token,
      TETHER_STATE_DIR: rt.stateDir,
      TETHER_PROGRESS: 'off',
    },
    rt.stateDir,
  );
  try {
    await fake.waitFor(() => fake.openConnections().length === 1 && fake.openConnections()[0]!.ready, 15_000, 'the long connection').catch((err: Error) => {
      throw new Error(`${err.message}\n${bridge.tail()}`);
    });
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const idleRss = readRssMb(bridge.pid);

    const replies = (chat: FakeChat) => fake.sent(chat).filter((m) => m.text.trim() === REPLY);
    const acks: number[] = [];
    // First round: each sample in a new chat (the bridge also creates its thread); second: the same chats again.
    const relayRound = async (nth: number): Promise<number[]> => {
      const pending: Array<Promise<number>> = [];
      for (let i = 0; i < WARMUP + SAMPLES; i++) {
        const { user, chat } = users[i]!;
        const t0 = performance.now();
        const { eventId } = fake.pushMessage({ chat, from: user, text: `ping ${nth}.${i}` });
        pending.push(fake.waitFor(() => replies(chat)[nth], 15_000, `reply ${nth + 1} to ${user.name}`).then(() => performance.now() - t0));
        if (i >= WARMUP) void fake.waitForAck(eventId, 15_000).then((a) => acks.push(a.latencyMs));
        await new Promise((resolve) => setTimeout(resolve, SAMPLE_GAP_MS));
      }
      return (await Promise.all(pending)).slice(WARMUP);
    };
    const first = await relayRound(0);
    const ongoing = await relayRound(1);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const loadedRss = readRssMb(bridge.pid);
    const node = rssAfterLoading('0');
    const sdk = rssAfterLoading("require('@larksuiteoapi/node-sdk')");
    const f = spread(first);
    const o = spread(ongoing);
    const a = spread(acks);
    const perTurn = (fake.calls.length - fake.endpointCalls() - fake.tokenCalls()) / (2 * (WARMUP + SAMPLES));
    return [
      { name: 'Feishu relay in an ongoing chat, p50', value: o.p50, unit: 'ms', detail: `${o.n} messages ${SAMPLE_GAP_MS} ms apart, each chat's second message; event pushed → reply received by the fake` },
      { name: 'Feishu relay in an ongoing chat, p99', value: o.p99, unit: 'ms', goal: { kind: 'below', value: 25 }, detail: `max ${o.max.toFixed(2)} ms` },
      { name: 'Feishu relay, first message of a new chat, p50', value: f.p50, unit: 'ms', detail: `${f.n} messages, each in its own chat (the bridge also creates the thread)` },
      { name: 'Feishu relay, first message of a new chat, p99', value: f.p99, unit: 'ms', goal: { kind: 'below', value: 25 }, detail: `max ${f.max.toFixed(2)} ms` },
      { name: 'Feishu ack after the push, p99', value: a.p99, unit: 'ms', goal: { kind: 'below', value: 3000 }, detail: `p50 ${a.p50.toFixed(2)} ms, max ${a.max.toFixed(2)} ms over ${a.n} events` },
      { name: 'Feishu open-platform calls per short turn', value: perTurn, unit: '', detail: 'reaction, reply, reaction removed (tokens and ws endpoint not counted)' },
      { name: 'Feishu bridge RSS, idle after start', value: idleRss, unit: 'MB', goal: { kind: 'below', value: 60 }, detail: `VmRSS ${SETTLE_MS} ms after the long connection was ready` },
      { name: `Feishu bridge RSS, idle after ${WARMUP + SAMPLES} chats`, value: loadedRss, unit: 'MB', goal: { kind: 'below', value: 60 } },
      { name: 'RSS of a bare node / node that only loads the SDK', value: sdk, unit: 'MB', detail: `a bare node ${node.toFixed(1)} MB; the SDK adds ${(sdk - node).toFixed(1)} MB before it does anything` },
    ] satisfies Figure[];
  } finally {
    await bridge.stop();
    await fake.close();
    await rt.stop();
    await model.stop();
  }
});
