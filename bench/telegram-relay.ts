// Figures of the Telegram bridge (compiled, its own process): relay overhead, idle memory, long chunked replies and 200 chats at once under Telegram's rate limits.
import { startFakeTelegram, type FakeTelegram } from '../test/fakes/telegram-bot-api.js';
import { spread, runBenchmark, type Figure } from './support/figures.js';
import { readRssMb, spawnCompiledCli, startInstantModel, startRuntime } from './support/processes.js';

const WARMUP = 20;
const SAMPLES = 120;
/** Time between relay samples: about 8 replies a second, well under the bridge's 25/s, so the figure is the relay and not the pacer. */
const SAMPLE_GAP_MS = 120;
const BURST = 200;
const FIRST_USER = 500_000;
const REPLY = 'ok'; // what the instant model answers
const SETTLE_MS = 1500;
/** Two 10,000-character replies asked for at once in one chat: 6 chunks, the sustained per-chat case. */
const LONG_REPLY_CHARS = 10_000;
const LONG_REPLIES = 2;
const TEXT_LIMIT = 4096;

/**
 * Telegram's limits as the FAQ states them, enforced by the fake for this benchmark; a send over
 * any of them is answered 429. Published figures are counted on a sliding window as they arrive:
 * 30 messages in any second per bot, 20 in any minute per group. For a private chat the FAQ says
 * one a second "but we may allow short bursts": modelled as a bucket of 4 that refills one a
 * second (Telegram does not publish the burst; the bridge itself takes at most 3). Only
 * sendMessage is counted: the FAQ's limits are about messages, not chat actions.
 */
function enforceTelegramRateLimits(fake: FakeTelegram): { refused: () => number; why: () => string } {
  const PRIVATE_BURST = 4;
  const accepted: number[] = [];
  const perGroup = new Map<string, number[]>();
  const perPrivate = new Map<string, { tokens: number; at: number }>();
  let refused = 0;
  const reasons: string[] = [];
  const refuse = (why: string) => {
    refused++;
    reasons.push(why);
    return true;
  };
  fake.fail({
    method: 'sendMessage',
    error_code: 429,
    description: 'Too Many Requests: retry after 1',
    parameters: { retry_after: 1 },
    times: Number.MAX_SAFE_INTEGER,
    when: (params) => {
      const now = performance.now();
      while (accepted.length > 0 && now - accepted[0]! >= 1000) accepted.shift();
      if (accepted.length >= 30) return refuse('over 30 in one second');
      const chat = String(params.chat_id);
      if (chat.startsWith('-')) {
        const times = (perGroup.get(chat) ?? []).filter((t) => now - t < 60_000);
        if (times.length >= 20) return refuse(`group ${chat} over 20 in one minute`);
        perGroup.set(chat, [...times, now]);
      } else {
        const b = perPrivate.get(chat) ?? { tokens: PRIVATE_BURST, at: now };
        const tokens = Math.min(PRIVATE_BURST, b.tokens + (now - b.at) / 1000);
        if (tokens < 1) return refuse(`chat ${chat} over a burst of ${PRIVATE_BURST} then 1/s`);
        perPrivate.set(chat, { tokens: tokens - 1, at: now });
      }
      accepted.push(now);
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
  const longUser = { id: FIRST_USER - 1, first_name: 'Long' };
  const bridge = spawnCompiledCli(
    ['telegram'],
    {
      TELEGRAM_BOT_TOKEN: fake.token,
      TELEGRAM_API_ROOT: fake.url,
      TELEGRAM_ALLOWLIST: [longUser, ...users].map((u) => u.id).join(','),
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

    const replies = (userId: number) => fake.sent(userId).filter((m) => m.text.trim() === REPLY);
    const replyTo = (userId: number) => replies(userId)[0];
    // Samples start SAMPLE_GAP_MS apart without waiting for each other, so a slow relay cannot
    // stretch the run. First round: each sample in a new chat (the bridge also creates its thread).
    // Second round: the same chats again, each long after its first message (a conversation going on).
    const relayRound = async (nth: number): Promise<number[]> => {
      const pending: Array<Promise<number>> = [];
      for (let i = 0; i < WARMUP + SAMPLES; i++) {
        const user = users[i]!;
        const t0 = performance.now();
        fake.userSends(fake.privateChat(user), `ping ${nth}.${i}`);
        pending.push(fake.waitFor(() => replies(user.id)[nth], 15_000, `reply ${nth + 1} to user ${user.id}`).then(() => performance.now() - t0));
        await new Promise((resolve) => setTimeout(resolve, SAMPLE_GAP_MS));
      }
      return (await Promise.all(pending)).slice(WARMUP);
    };
    const samples = await relayRound(0);
    const ongoing = await relayRound(1);
    const refusedInRelay = limits.refused();

    // Long replies: chunked to at most 4096 and sent in order, a burst then one a second, no 429.
    const longStart = performance.now();
    for (let i = 0; i < LONG_REPLIES; i++) fake.userSends(fake.privateChat(longUser), `!long ${LONG_REPLY_CHARS}`);
    const expectedChunks = LONG_REPLIES * Math.ceil(LONG_REPLY_CHARS / (TEXT_LIMIT - 100));
    const longChunks = () => fake.sent(longUser.id).filter((m) => m.text.startsWith('word'));
    await fake.waitFor(() => longChunks().length >= expectedChunks || undefined, 30_000, `${expectedChunks} chunks of the long replies`);
    const longSeconds = (performance.now() - longStart) / 1000;
    const longest = Math.max(...longChunks().map((m) => [...m.text].length));
    const refusedInLong = limits.refused() - refusedInRelay;
    const refusedBeforeBurst = limits.refused();

    const burstUsers = users.slice(WARMUP + SAMPLES);
    const burstStart = performance.now();
    for (const user of burstUsers) fake.userSends(fake.privateChat(user), 'all at once');
    await fake.waitFor(() => burstUsers.every((u) => replyTo(u.id)), 60_000, `replies in all ${BURST} chats`);
    const burstSeconds = (performance.now() - burstStart) / 1000;
    await settle();
    const loadedRss = readRssMb(bridge.pid);
    const s = spread(samples);
    const o = spread(ongoing);
    return [
      { name: 'Telegram relay in an ongoing chat, p50', value: o.p50, unit: 'ms', detail: `${o.n} messages ${SAMPLE_GAP_MS} ms apart, each chat's second message` },
      { name: 'Telegram relay in an ongoing chat, p99', value: o.p99, unit: 'ms', goal: { kind: 'below', value: 25 }, detail: `max ${o.max.toFixed(2)} ms` },
      { name: 'Telegram relay, first message of a new chat, p50', value: s.p50, unit: 'ms', detail: `${s.n} messages ${SAMPLE_GAP_MS} ms apart, each in its own chat (the bridge also creates the thread)` },
      { name: 'Telegram relay, first message of a new chat, p99', value: s.p99, unit: 'ms', goal: { kind: 'below', value: 25 }, detail: `max ${s.max.toFixed(2)} ms; ${refusedInRelay} sends refused with 429 in both relay rounds` },
      { name: `${LONG_REPLIES} replies of ${LONG_REPLY_CHARS} characters in one chat: 429 answers from the fake`, value: refusedInLong, unit: '', goal: { kind: 'below', value: 1 }, detail: `${longChunks().length} chunks, longest ${longest} characters, all sent after ${longSeconds.toFixed(2)} s` },
      { name: 'Telegram bridge RSS, idle after start', value: idleRss, unit: 'MB', goal: { kind: 'below', value: 60 }, detail: `VmRSS ${SETTLE_MS} ms after its first getUpdates` },
      { name: `Telegram bridge RSS, idle after ${WARMUP + SAMPLES + BURST} chats`, value: loadedRss, unit: 'MB', goal: { kind: 'below', value: 60 } },
      { name: `${BURST} chats at once: 429 answers from the fake`, value: limits.refused() - refusedBeforeBurst, unit: '', goal: { kind: 'below', value: 1 }, detail: `the fake enforces 30 messages in any second per bot and, per private chat, a burst of 4 then 1/s${limits.refused() > 0 ? `; refused: ${limits.why()}` : ''}` },
      { name: `${BURST} chats at once: all replied after`, value: burstSeconds, unit: 's', detail: `${(BURST / burstSeconds).toFixed(1)} replies/s (the bridge paces 20/s); Telegram allows about 30/s; ${fake.callCount('sendChatAction')} typing actions in the whole run` },
    ] satisfies Figure[];
  } finally {
    await bridge.stop();
    await fake.close();
    await rt.stop();
    await model.stop();
  }
});
