// The poller's backoff: grows from its minimum, never passes its cap, and jitters so two pollers drift apart.
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, DEFAULT_POLLER_TIMING } from '../../../bridges/telegram/polling.js';

describe('backoffDelayMs', () => {
  const conflict = DEFAULT_POLLER_TIMING.conflict;
  it.each([
    [0, 0.5, 5_000],
    [1, 0.5, 10_000],
    [2, 0.5, 20_000],
    [3, 0.5, 40_000],
    [4, 0.5, 60_000],
    [50, 0.5, 60_000],
    [0, 0, 4_000],
    [0, 1, 6_000],
    [10, 1, 60_000],
  ])('attempt %i with random %f waits %i ms', (attempt, r, expected) => {
    expect(backoffDelayMs(attempt, conflict, () => r)).toBe(expected);
  });

  it('starts conflicts at about 5 s and caps them at 60 s, as docs/telegram.md says', () => {
    expect(conflict).toEqual({ minMs: 5_000, maxMs: 60_000 });
  });
});
