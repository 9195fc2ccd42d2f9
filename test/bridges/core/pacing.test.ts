// Send budgets by table: per conversation and global, shared by every kind of send.
import { describe, expect, it } from 'vitest';
import { createPacingState, holdConversation, reserveSlot, tryReserveNow } from '../../../bridges/core/pacing.js';

const limits = { privateIntervalMs: 1000, groupPerMinute: 20, globalPerSecond: 30 };

describe('pacing', () => {
  it('spaces sends into one private chat by its interval', () => {
    const s = createPacingState();
    expect([0, 0, 0].map(() => reserveSlot(s, limits, 'a', 'private', 0))).toEqual([0, 1000, 2000]);
  });

  it('spaces group sends by 60 s / groupPerMinute', () => {
    const s = createPacingState();
    expect([0, 0].map(() => reserveSlot(s, limits, 'g', 'group', 0))).toEqual([0, 3000]);
  });

  it('lets different chats go nearly together, paced only by the global budget', () => {
    const s = createPacingState();
    expect(['a', 'b', 'c'].map((k) => reserveSlot(s, limits, k, 'private', 0))).toEqual([0, 34, 68]);
  });

  it('typing takes a slot only when one is free now', () => {
    const s = createPacingState();
    expect(tryReserveNow(s, limits, 'a', 'private', 0)).toBe(true);
    expect(tryReserveNow(s, limits, 'a', 'private', 10)).toBe(false);
    expect(reserveSlot(s, limits, 'a', 'private', 10)).toBe(990);
  });

  it('flood control holds a conversation until the time it was told', () => {
    const s = createPacingState();
    holdConversation(s, 'a', 5000);
    expect(reserveSlot(s, limits, 'a', 'private', 100)).toBe(4900);
  });
});
