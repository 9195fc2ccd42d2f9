// Figures of the Telegram bridge (compiled, its own process): relay overhead, idle memory, and 200 chats at once under Telegram's rate limits.
import { startFakeTelegram, type FakeTelegram } from '../test/fakes/telegram-bot-api.js';
import { spread, runBenchmark, type Figure } from './support/figures.js';
import { readRssMb, spawnCompiledCli, startInstantModel, startRuntime } from './support/processes.js';

const WARMUP = 20;
const SAMPLES = 120;
/** Time between relay samples, well over the 34 ms global send interval, so the figure is the relay and not the pacer. */
const SAMPLE_GAP_MS = 120;
const BURST = 200;
const FIRST_USER = 500_000;
const REPLY = 'ok'; // what the instant model answers
const SETTLE_MS = 1500;

/**
 * Telegram's documented limits, enforced by the fake for this benchmark: about 30 messages a
 * second per bot and one a second per private chat. A send over either is answered 429.
 */
function enforceTelegramRateLimits(fake: FakeTelegram): { refused: () => number; why: () => string } {
  const accepted: number[] = [];
  const lastPerChat = new Map<string, number>();
  let refused = 0;
  const reasons: string[] = [];
  fake.fail({
    method: 'sendMessage',
    error_code: 429,
    description: 'Too Many Requests: retry after 1',
    parameters: { retry_after: 1 },
    times: Number.MAX_SAFE_INTEGER,
    when: (params) => {
      const now = performance.now();
      while (accepted.length > 0 && now - accepted[0]! >= 1000) accepted.shift();
      const chat = String(params.chat_id);
      const last = lastPerChat.get(chat);
      if (accepted.length >= 30 || (last !== undefined && now - last < 1000)) {
        refused++;
        reasons.push(accepted.length >= 30 ? 'over 30 a second' : `chat ${chat} again after ${(now - last!).toFixed(0)} ms`);
        return true;
      }
      accepted.push(now);
      lastPerChat.set(chat, now);
      return false;
    },
  });
  return { refused: () => refused, why: () => [...new Set(reasons)].slice(0, 3).join('; ') };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

runBenchmark('telegram-relay', async () => {
  const model = await startInstantModel();
  const rt = await startRuntime({ modelUrl: model.url });
  const fake = await startFakeTelegram();
  const limits = enforceTelegramRateLimits(fake);
  const users = Array.from({ length: WARMUP + SAMPLES + BURST }, (_, i) => ({ id: FIRST_USER + i, first_name: `User ${i}` }));
  const bridge = spawnCompiledCli(
    ['telegram'],
    {
      TELEGRAM_BOT_TOKEN: fake.token,
      TELEGRAM_API_ROOT: fake.url,
      TELEGRAM_ALLOWLIST: users.map((u) => u.id).join(','),
      TETHER_RUNTIME_URL: rt.url,
      TETHER_TOKEN: rt.token,
      TETHER_STATE_DIR: rt.stateDir,
    },
    rt.stateDir,
  );
  try {
    await fake.waitFor(() => fake.isPolling(), 15_000, 'the bridge to poll getUpdates').catch((err: Error) => {
      throw new Error(`${err.message}\n${bridge.tail()}`);
    });
    await settle();
    const idleRss = readRssMb(bridge.pid);

    const replyTo = (userId: number) => fake.sent(userId).find((m) => m.text.trim() === REPLY);
    // One chat per sample, so the one-a-second pacing per private chat never delays a figure; samples
    // start SAMPLE_GAP_MS apart without waiting for each other, so a slow relay cannot stretch the run.
    const pending: Array<Promise<number>> = [];
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const user = users[i]!;
      const t0 = performance.now();
      fake.userSends(fake.privateChat(user), `ping ${i}`);
      pending.push(fake.waitFor(() => replyTo(user.id), 15_000, `the reply to user ${user.id}`).then(() => performance.now() - t0));
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_GAP_MS));
    }
    const samples = (await Promise.all(pending)).slice(WARMUP);
    const refusedBeforeBurst = limits.refused();

    const burstUsers = users.slice(WARMUP + SAMPLES);
    const burstStart = performance.now();
    for (const user of burstUsers) fake.userSends(fake.privateChat(user), 'all at once');
    await fake.waitFor(() => burstUsers.every((u) => replyTo(u.id)), 60_000, `replies in all ${BURST} chats`);
    const burstSeconds = (performance.now() - burstStart) / 1000;
    await settle();
    const loadedRss = readRssMb(bridge.pid);
    const s = spread(samples);
    return [
      { name: 'Telegram relay (update available → sendMessage received), p50', value: s.p50, unit: 'ms', detail: `${s.n} messages ${SAMPLE_GAP_MS} ms apart, each in its own chat; includes the runtime's turn with an instant model` },
      { name: 'Telegram relay (update available → sendMessage received), p99', value: s.p99, unit: 'ms', goal: { kind: 'below', value: 25 }, detail: `max ${s.max.toFixed(2)} ms; ${fake.callCount('sendChatAction')} typing actions; ${refusedBeforeBurst} sends refused with 429 meanwhile` },
      { name: 'Telegram bridge RSS, idle after start', value: idleRss, unit: 'MB', goal: { kind: 'below', value: 60 }, detail: `VmRSS ${SETTLE_MS} ms after its first getUpdates` },
      { name: `Telegram bridge RSS, idle after ${WARMUP + SAMPLES + BURST} chats`, value: loadedRss, unit: 'MB', goal: { kind: 'below', value: 60 } },
      { name: `${BURST} chats at once: 429 answers from the fake`, value: limits.refused() - refusedBeforeBurst, unit: '', goal: { kind: 'below', value: 1 }, detail: `the fake enforces 30 messages/s per bot and 1/s per chat${limits.refused() > 0 ? `; refused: ${limits.why()}` : ''}` },
      { name: `${BURST} chats at once: all replied after`, value: burstSeconds, unit: 's', detail: `${(BURST / burstSeconds).toFixed(1)} replies/s; Telegram allows about 30/s` },
    ] satisfies Figure[];
  } finally {
    await bridge.stop();
    await fake.close();
    await rt.stop();
    await model.stop();
  }
});
