// Pairing-code rules: minting, normalising, hashing and the attempt limits. Pure except for randomness.
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

/** No 0 O 1 I L: a code read aloud or copied from a log cannot be misread. */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const CODE_LENGTH = 8;
export const CODE_TTL_MS = 60 * 60 * 1000;
export const SENDER_WRONG_LIMIT = 5;
export const GLOBAL_WRONG_LIMIT = 20;
/** Wrong guesses are counted over this window… */
export const ATTEMPT_WINDOW_MS = 60 * 60 * 1000;
/** …and reaching a limit locks (a sender) or freezes (everyone) for this long from that guess. */
export const LOCKOUT_MS = 60 * 60 * 1000;
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
  /** When the sender's lockout ends (stored), if they were ever locked. */
  senderLockedUntil: number | undefined;
  /** When the global freeze ends (stored), if pairing was ever frozen. */
  frozenUntil: number | undefined;
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
  if (f.senderLockedUntil !== undefined && f.now < f.senderLockedUntil) return { ok: false, reason: 'sender_locked', countsAsWrong: false };
  if (f.frozenUntil !== undefined && f.now < f.frozenUntil) return { ok: false, reason: 'pairing_frozen', countsAsWrong: false };
  if (!f.match) return { ok: false, reason: 'unknown', countsAsWrong: true };
  if (f.match.usedAt !== null) return { ok: false, reason: 'used', countsAsWrong: true };
  if (f.match.expiresAt <= f.now) return { ok: false, reason: 'expired', countsAsWrong: true };
  return { ok: true };
}

export interface WrongGuessCounts {
  /** Wrong guesses in the last ATTEMPT_WINDOW_MS, the one just made included. */
  bySender: number;
  global: number;
  now: number;
}

/**
 * The lockouts a wrong guess starts: the sender's at its 5th in the window, everyone's at the 20th
 * across senders, each until an hour from this guess. Stored as an end time, not recounted from a
 * sliding window: counted that way, guesses spread over 59 minutes locked for only a minute.
 */
export function lockoutsAfterWrongGuess(c: WrongGuessCounts): { senderUntil?: number; frozenUntil?: number } {
  return {
    ...(c.bySender >= SENDER_WRONG_LIMIT ? { senderUntil: c.now + LOCKOUT_MS } : {}),
    ...(c.global >= GLOBAL_WRONG_LIMIT ? { frozenUntil: c.now + LOCKOUT_MS } : {}),
  };
}

/** The one answer every refused `/pair` gets. */
export const PAIR_REFUSED_TEXT = 'That code is not valid. Codes work once and expire after an hour; ask the owner for a new one (tether pair code <platform>).';
