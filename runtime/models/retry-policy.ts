// How long to wait before another attempt: the provider's Retry-After when it sends one, else backoff with jitter.

/**
 * Milliseconds a Retry-After value asks for: delta seconds ("1", "1.5") or an HTTP date.
 * `retry-after-ms` (OpenAI, Azure) wins when present. Undefined when absent or unreadable.
 */
export function parseRetryAfter(retryAfter: string | undefined, retryAfterMs: string | undefined, now: Date = new Date()): number | undefined {
  if (retryAfterMs !== undefined && /^\s*\d+(\.\d+)?\s*$/.test(retryAfterMs)) return Math.ceil(Number(retryAfterMs));
  if (retryAfter === undefined) return undefined;
  const v = retryAfter.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.ceil(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

export interface BackoffOptions {
  /** Wait before the first retry, before jitter. */
  baseMs: number;
  /** No wait is longer than this. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 8_000 };

/**
 * Exponential backoff with "equal jitter": half fixed, half random, so many clients that failed
 * together do not come back together. `retry` counts from 1; `random` is in [0, 1).
 */
export function backoffDelay(retry: number, options: BackoffOptions = DEFAULT_BACKOFF, random: number = Math.random()): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/** The wait before retry number `retry`: what the provider asked for, or backoff. */
export function retryDelay(retry: number, retryAfterMs: number | undefined, options: BackoffOptions = DEFAULT_BACKOFF, random: number = Math.random()): number {
  return retryAfterMs !== undefined ? retryAfterMs : backoffDelay(retry, options, random);
}
