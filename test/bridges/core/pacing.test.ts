// Send budgets by table: token buckets per chat and for the bot, bursts then sustained rates, best-effort sends skipped, holds, first-come grants.
import { describe, expect, it } from 'vitest';
import type { ConversationRef, SendLimits } from '../../../bridges/core/adapter.js';
import {
  budgetKey,
  createPacingState,
  grantWaiting,
  holdChat,
  sendWait,
  trySend,
  type PacingState,
  type SendClass,
} from '../../../bridges/core/pacing.js';
import { TELEGRAM_LIMITS } from '../../../bridges/telegram/adapter.js';

const limits: SendLimits = { privateIntervalMs: 1000, privateBurst: 3, groupPerMinute: 17, groupBurst: 3, globalPerSecond: 25, globalBurst: 5 };
const chat = (chatId: string, kind: ConversationRef['kind'] = 'private', topicId?: string) => ({ chatId, kind, ...(topicId ? { topicId } : {}) });

/** Runs `steps` (time, chat, class) and says for each whether it was allowed. */
function run(steps: Array<[number, string, SendClass?]>, l: SendLimits = limits, s: PacingState = createPacingState()): boolean[] {
  return steps.map(([t, c, cls]) => trySend(s, l, chat(c, c.startsWith('-') ? 'group' : 'private'), t, cls ?? 'send'));
}

/** A sender that sends whenever allowed, every `stepMs`, into `chats` round-robin; returns the send times. */
function greedy(l: SendLimits, chats: ReturnType<typeof chat>[], untilMs: number, stepMs = 1): number[] {
  const s = createPacingState();
  const sent: number[] = [];
  let next = 0;
  for (let t = 0; t <= untilMs; t += stepMs) {
    for (let refused = 0; refused < chats.length; ) {
      const c = chats[next++ % chats.length]!;
      if (trySend(s, l, c, t)) {
        sent.push(t);
        refused = 0;
      } else refused++;
    }
  }
  return sent;
}

/** The most sends any window of `windowMs` (sliding, half-open like a server's counter) holds. */
function busiestWindow(times: number[], windowMs: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('pacing: token buckets', () => {
  it.each([
    ['a private chat takes a burst of 3, then one a second', [[0, 'a'], [0, 'a'], [0, 'a'], [0, 'a'], [999, 'a'], [1000, 'a'], [1500, 'a'], [2000, 'a']], [true, true, true, false, false, true, false, true]],
    ['a group takes a burst of 3, then one every 60/17 s', [[0, '-g'], [0, '-g'], [0, '-g'], [3000, '-g'], [3530, '-g'], [5000, '-g']], [true, true, true, false, true, false]],
    ['chats do not share their own budgets', [[0, 'a'], [0, 'a'], [0, 'a'], [0, 'b'], [0, 'c']], [true, true, true, true, true]],
    ['the bot takes a burst of 5 across chats, then 25 a second', [[0, 'a'], [0, 'b'], [0, 'c'], [0, 'd'], [0, 'e'], [0, 'f'], [39, 'f'], [40, 'f'], [40, 'g']], [true, true, true, true, true, false, false, true, false]],
  ] as Array<[string, Array<[number, string]>, boolean[]]>)('%s', (_name, steps, expected) => {
    expect(run(steps)).toEqual(expected);
  });

  it.each([
    // Busiest window: burst + rate × (window − 1 ms), i.e. one under Telegram's figure where it gives one.
    ['one private chat, 60 s: 3 in any second, 1/s sustained', [chat('a')], 60_000, 1000, 3, 63],
    ['one group, 5 min: 19 in any minute (Telegram: 20)', [chat('-g', 'group')], 300_000, 60_000, 19, 88],
    ['200 private chats, 10 s: 29 in any second (Telegram: 30)', Array.from({ length: 200 }, (_, i) => chat(String(i))), 10_000, 1000, 29, 255],
  ] as Array<[string, ReturnType<typeof chat>[], number, number, number, number]>)(
    'a greedy sender stays within Telegram\'s limits: %s',
    (_name, chats, untilMs, windowMs, mostPerWindow, total) => {
      const times = greedy(limits, chats, untilMs);
      expect(busiestWindow(times, windowMs)).toBe(mostPerWindow);
      expect(times.length).toBe(total);
    },
  );

  it.each([
    ['one private chat, 60 s', [chat('a')], 60_000, 1000, 4],
    ['one group, 5 min', [chat('-g', 'group')], 300_000, 60_000, 20],
    ['200 private chats, 10 s', Array.from({ length: 200 }, (_, i) => chat(String(i))), 10_000, 1000, 30],
  ] as Array<[string, ReturnType<typeof chat>[], number, number, number]>)('TELEGRAM_LIMITS keep a greedy sender under Telegram\'s figures: %s', (_name, chats, untilMs, windowMs, telegramAllows) => {
    expect(busiestWindow(greedy(TELEGRAM_LIMITS, chats, untilMs), windowMs)).toBeLessThan(telegramAllows);
  });

  it('never lets a stall release more than the burst: tokens are taken when sending, not booked ahead', () => {
    const s = createPacingState();
    // Nothing for 10 s (an event-loop stall), then everyone at once: only the bot's burst goes.
    const after = Array.from({ length: 40 }, (_, i) => trySend(s, limits, chat(String(i)), 10_000));
    expect(after.filter(Boolean).length).toBe(5);
    expect(sendWait(s, limits, chat('z'), 10_000)).toBe(40);
  });

  it('one chat\'s wait never delays another chat', () => {
    const s = createPacingState();
    for (let i = 0; i < 3; i++) trySend(s, limits, chat('a'), 0);
    expect(sendWait(s, limits, chat('a'), 0)).toBe(1000);
    expect(sendWait(s, limits, chat('b'), 0)).toBe(0);
    expect(trySend(s, limits, chat('b'), 0)).toBe(true);
  });

  it('forum topics share their chat\'s budget', () => {
    const s = createPacingState();
    expect(budgetKey(chat('-100', 'group', '7'))).toBe(budgetKey(chat('-100', 'group')));
    expect(['7', '8', '1', '9'].map((t) => trySend(s, limits, chat('-100', 'group', t), 0))).toEqual([true, true, true, false]);
  });
});

describe('pacing: best-effort sends (typing, progress)', () => {
  it.each([
    ['typing then the reply: the reply does not wait', [[0, 'a', 'best_effort'], [1, 'a', 'send']], [true, true]],
    ['typing is skipped when it would take the chat\'s last token', [[0, 'a'], [0, 'a'], [1, 'a', 'best_effort'], [2, 'a', 'send']], [true, true, false, true]],
    ['typing comes back once the chat refilled', [[0, 'a'], [0, 'a'], [0, 'a'], [1000, 'a', 'best_effort'], [2000, 'a', 'best_effort']], [true, true, true, false, true]],
    ['typing yields the bot\'s budget to other chats\' replies', [[0, 'a'], [0, 'b'], [0, 'c'], [0, 'd', 'best_effort'], [0, 'd', 'send']], [true, true, true, false, true]],
  ] as Array<[string, Array<[number, string, SendClass]>, boolean[]]>)('%s', (_name, steps, expected) => {
    expect(run(steps)).toEqual(expected);
  });

  it('with a burst of 1 (an adapter that sets none) typing may take the only token', () => {
    expect(run([[0, 'a', 'best_effort'], [1, 'a', 'send'], [1000, 'a', 'send']], { privateIntervalMs: 1000, groupPerMinute: 20, globalPerSecond: 30 })).toEqual([true, false, true]);
  });

  it('a rate of 0 means no limit', () => {
    const none: SendLimits = { privateIntervalMs: 0, groupPerMinute: 0, globalPerSecond: 0 };
    expect(run(Array.from({ length: 50 }, () => [0, 'a'] as [number, string]), none).every(Boolean)).toBe(true);
  });
});

describe('pacing: flood control', () => {
  it('holds the chat until the time it was told, then one token, then the sustained rate', () => {
    const s = createPacingState();
    holdChat(s, limits, chat('a'), 5000);
    expect(sendWait(s, limits, chat('a'), 100)).toBe(4900);
    expect(sendWait(s, limits, chat('b'), 100)).toBe(0);
    expect(run([[4999, 'a'], [5000, 'a'], [5000, 'a'], [6000, 'a']], limits, s)).toEqual([false, true, false, true]);
  });

  it('a shorter hold does not cut a longer one', () => {
    const s = createPacingState();
    holdChat(s, limits, chat('a'), 9000);
    holdChat(s, limits, chat('a'), 3000);
    expect(sendWait(s, limits, chat('a'), 0)).toBe(9000);
  });

  it('holds even a chat without limits', () => {
    const none: SendLimits = { privateIntervalMs: 0, groupPerMinute: 0, globalPerSecond: 0 };
    const s = createPacingState();
    holdChat(s, none, chat('a'), 2000);
    expect(sendWait(s, none, chat('a'), 500)).toBe(1500);
    expect(trySend(s, none, chat('a'), 2000)).toBe(true);
  });
});

describe('pacing: granting waiting senders', () => {
  it('passes over a chat out of its own tokens, and serves the bot\'s budget first come, first served', () => {
    const s = createPacingState();
    for (let i = 0; i < 3; i++) trySend(s, limits, chat('a'), 0); // a: empty; bot: 2 left
    const queue = [chat('a'), chat('b'), chat('c'), chat('d'), chat('e')];
    const first = grantWaiting(s, limits, queue, 0);
    expect(first).toEqual({ granted: [1, 2], nextCheckMs: 40 });
    // 40 ms later the bot has one token: d (older) before e; a still waits for its own chat.
    expect(grantWaiting(s, limits, [chat('a'), chat('d'), chat('e')], 40)).toEqual({ granted: [1], nextCheckMs: 40 });
  });

  it('says when to look again for a queue blocked only by its chats', () => {
    const s = createPacingState();
    for (let i = 0; i < 3; i++) trySend(s, limits, chat('a'), 0);
    expect(grantWaiting(s, limits, [chat('a')], 250)).toEqual({ granted: [], nextCheckMs: 750 });
    expect(grantWaiting(s, limits, [], 250)).toEqual({ granted: [], nextCheckMs: undefined });
  });
});
