// Pairing-code rules: minting, normalising, hashing and the attempt limits. Pure except for randomness.
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

/** No 0 O 1 I L: a code read aloud or copied from a log cannot be misread. */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const CODE_LENGTH = 8;
export const CODE_TTL_MS = 60 * 60 * 1000;
export const SENDER_WRONG_LIMIT = 5;
export const GLOBAL_WRONG_LIMIT = 20;
export const ATTEMPT_WINDOW_MS = 60 * 60 * 1000;
/** An unknown private chat gets at most one request reply in this interval. */
export const REQUEST_REPLY_INTERVAL_MS = 10 * 60 * 1000;
/** Beyond this many open requests, new strangers get silence (a flood of them is an attack, not friends). */
export const MAX_OPEN_REQUESTS = 10;

export function mintCode(random: (max: number) => number = randomInt): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[random(CODE_ALPHABET.length)];
  return code;
}

/** What a person typed → the canonical code, or undefined when it cannot be one (no lookup needed). */
export function normalizeCode(typed: string): string | undefined {
  const code = typed.replace(/[\s-]+/g, '').toUpperCase();
  if (code.length !== CODE_LENGTH) return undefined;
  for (const ch of code) if (!CODE_ALPHABET.includes(ch)) return undefined;
  return code;
}

/** Codes are stored only as salted hashes, so a copied database does not hand out access. */
export function hashCode(salt: string, code: string): string {
  return createHash('sha256').update(salt).update('\0').update(code).digest('hex');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface StoredCode {
  hash: string;
  expiresAt: number;
  usedAt: number | null;
}

export interface PairAttemptFacts {
  /** The stored code whose hash matches what was typed, if any. */
  match: StoredCode | undefined;
  wrongBySenderInWindow: number;
  wrongGlobalInWindow: number;
  now: number;
}

export type PairVerdict =
  | { ok: true }
  | { ok: false; reason: 'unknown' | 'used' | 'expired' | 'sender_locked' | 'pairing_frozen'; countsAsWrong: boolean };

/**
 * Decides a `/pair CODE` attempt. Every refusal gets the same answer in chat (no oracle);
 * the reason is for the log only. A locked-out sender is refused even with a right code. The
 * global limit counts only guesses that were judged (`countsAsWrong`), never a locked sender's.
 */
export function judgePairAttempt(f: PairAttemptFacts): PairVerdict {
  // Refusals of a locked sender or a frozen bridge guess nothing, so they do not count: one locked
  // stranger spamming /pair must not freeze pairing for everyone, nor keep it frozen.
  if (f.wrongBySenderInWindow >= SENDER_WRONG_LIMIT) return { ok: false, reason: 'sender_locked', countsAsWrong: false };
  if (f.wrongGlobalInWindow >= GLOBAL_WRONG_LIMIT) return { ok: false, reason: 'pairing_frozen', countsAsWrong: false };
  if (!f.match) return { ok: false, reason: 'unknown', countsAsWrong: true };
  if (f.match.usedAt !== null) return { ok: false, reason: 'used', countsAsWrong: true };
  if (f.match.expiresAt <= f.now) return { ok: false, reason: 'expired', countsAsWrong: true };
  return { ok: true };
}

/** The one answer every refused `/pair` gets. */
export const PAIR_REFUSED_TEXT = 'That code is not valid. Codes work once and expire after an hour; ask the owner for a new one (tether pair code <platform>).';
