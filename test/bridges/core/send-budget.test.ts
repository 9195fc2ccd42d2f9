// The run-time send budget on a fake clock: waiters served first come first served, a chat's wait never delays another chat, typing never waits.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ConversationRef, SendLimits } from '../../../bridges/core/adapter.js';
import { SendBudget } from '../../../bridges/core/send-budget.js';

const limits: SendLimits = { privateIntervalMs: 1000, privateBurst: 2, groupPerMinute: 20, globalPerSecond: 10, globalBurst: 2 };
const chat = (chatId: string): ConversationRef => ({ platform: 'telegram', chatId, kind: 'private' });

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Starts acquires in order and records, per label, the fake time each was granted. */
function acquireAll(budget: SendBudget, labels: Array<[string, ConversationRef]>, signal?: AbortSignal): Map<string, number> {
  const granted = new Map<string, number>();
  for (const [label, ref] of labels) void budget.acquire(ref, signal).then(() => granted.set(label, Date.now()));
  return granted;
}

describe('SendBudget', () => {
  it('grants the bot-wide budget in arrival order, and a chat out of tokens waits alone', async () => {
    const budget = new SendBudget(limits);
    const granted = acquireAll(budget, [
      ['a1', chat('a')],
      ['a2', chat('a')],
      ['a3', chat('a')], // a's own burst is 2: waits for a's refill, not for anyone else
      ['b1', chat('b')],
      ['c1', chat('c')],
    ]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(Object.fromEntries(granted)).toEqual({ a1: 0, a2: 0, b1: 100, c1: 200, a3: 1000 });
    budget.close();
  });

  it('typing is refused rather than queued when it would wait, and never jumps a waiting reply', async () => {
    const budget = new SendBudget(limits);
    expect(budget.tryBestEffort(chat('a'))).toBe(true);
    expect(budget.tryBestEffort(chat('a'))).toBe(false); // would take a's last token, the reply's
    const granted = acquireAll(budget, [['b1', chat('b')], ['c1', chat('c')]]); // bot budget: 1 left → b now, c waits
    await vi.advanceTimersByTimeAsync(0);
    expect([...granted.keys()]).toEqual(['b1']);
    // A stalled event loop: the clock moves on, the timer that serves c has not fired yet. The bot's
    // budget is full again, but c's reply was first.
    vi.setSystemTime(1000);
    expect(budget.tryBestEffort(chat('d'))).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect([...granted.keys()]).toEqual(['b1', 'c1']);
    await vi.advanceTimersByTimeAsync(100);
    expect(budget.tryBestEffort(chat('d'))).toBe(true);
    budget.close();
  });

  it('a 429 holds that chat only', async () => {
    const budget = new SendBudget(limits);
    budget.hold(chat('a'), 3000);
    const granted = acquireAll(budget, [['a', chat('a')], ['b', chat('b')]]);
    await vi.advanceTimersByTimeAsync(2999);
    expect([...granted.keys()]).toEqual(['b']);
    await vi.advanceTimersByTimeAsync(1);
    expect(granted.get('a')).toBe(3000);
    budget.close();
  });

  it('caps sends in flight: the next waits for an answer, and typing is skipped meanwhile', async () => {
    const budget = new SendBudget({ ...limits, maxInFlight: 1 });
    const releases: Array<() => void> = [];
    const granted: string[] = [];
    for (const c of ['a', 'b']) void budget.acquire(chat(c)).then((release) => (granted.push(c), releases.push(release)));
    await vi.advanceTimersByTimeAsync(500);
    expect(granted).toEqual(['a']);
    expect(budget.tryBestEffort(chat('c'))).toBe(false);
    releases[0]!();
    releases[0]!(); // a second call gives back nothing more
    await vi.advanceTimersByTimeAsync(0);
    expect(granted).toEqual(['a', 'b']);
    releases[1]!();
    await vi.advanceTimersByTimeAsync(100); // the bot's budget refills to spare a token again
    expect(budget.tryBestEffort(chat('c'))).toBe(true);
    budget.close();
  });

  it('releases waiters when the bridge stops or the signal aborts', async () => {
    const budget = new SendBudget({ ...limits, privateBurst: 1 });
    const controller = new AbortController();
    const granted = acquireAll(budget, [['a1', chat('a')], ['a2', chat('a')]], controller.signal);
    const late = acquireAll(budget, [['a3', chat('a')]]);
    await vi.advanceTimersByTimeAsync(10);
    controller.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect([...granted.keys()]).toEqual(['a1', 'a2']);
    budget.close();
    await vi.advanceTimersByTimeAsync(0);
    expect(late.get('a3')).toBe(10);
    expect(vi.getTimerCount()).toBe(0);
  });
});
