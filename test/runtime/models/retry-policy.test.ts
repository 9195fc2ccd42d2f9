// Retry waits: Retry-After in both forms, and bounded backoff with jitter.
import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter, retryDelay } from '../../../runtime/models/retry-policy.js';

const NOW = new Date('2025-01-01T00:00:00Z');

describe('retry policy', () => {
  it.each([
    ['1', undefined, 1000],
    ['1.5', undefined, 1500],
    [' 30 ', undefined, 30_000],
    ['Wed, 01 Jan 2025 00:00:20 GMT', undefined, 20_000],
    ['Tue, 31 Dec 2024 23:59:00 GMT', undefined, 0],
    ['soon', undefined, undefined],
    [undefined, undefined, undefined],
    ['10', '250', 250],
  ])('Retry-After %j (retry-after-ms %j) asks for %j ms', (header, ms, expected) => {
    expect(parseRetryAfter(header, ms, NOW)).toBe(expected);
  });

  it('backs off exponentially with jitter, never beyond the maximum', () => {
    const opts = { baseMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, opts, 0))).toEqual([50, 100, 200, 400, 500]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, opts, 0.999))).toEqual([100, 200, 400, 800, 1000]);
  });

  it("prefers the provider's Retry-After to backoff", () => {
    expect(retryDelay(3, 1234, { baseMs: 100, maxMs: 1000 }, 0.5)).toBe(1234);
    expect(retryDelay(1, undefined, { baseMs: 100, maxMs: 1000 }, 0)).toBe(50);
  });
});
