// Pairing rules by table: alphabet, normalising, hashing, and the verdict of an attempt.
import { describe, expect, it } from 'vitest';
import { CODE_ALPHABET, GLOBAL_WRONG_LIMIT, LOCKOUT_MS, SENDER_WRONG_LIMIT, hashCode, judgePairAttempt, lockoutsAfterWrongGuess, mintCode, normalizeCode, sameHash } from '../../../bridges/core/pairing.js';

describe('pairing codes', () => {
  it('mints 8 characters from an alphabet without 0 O 1 I L', () => {
    for (const ch of '0O1IL') expect(CODE_ALPHABET).not.toContain(ch);
    const codes = Array.from({ length: 200 }, () => mintCode());
    for (const c of codes) expect(c).toMatch(/^[2-9A-HJKMNP-Z]{8}$/);
    expect(new Set(codes).size).toBe(200);
  });

  it.each([
    ['abcd2345', 'ABCD2345'],
    [' ABCD-2345 ', 'ABCD2345'],
    ['ABCD 2345', 'ABCD2345'],
    ['ABCD234', undefined],
    ['ABCD23450', undefined],
    ['ABCD2340', undefined],
    ['', undefined],
  ])('normalizes %j to %j', (typed, expected) => {
    expect(normalizeCode(typed)).toBe(expected);
  });

  it('hashes with the install salt, so one code differs across installs', () => {
    expect(hashCode('a', 'ABCD2345')).not.toBe(hashCode('b', 'ABCD2345'));
    expect(sameHash(hashCode('a', 'ABCD2345'), hashCode('a', 'ABCD2345'))).toBe(true);
    expect(sameHash(hashCode('a', 'ABCD2345'), hashCode('a', 'ABCD2346'))).toBe(false);
  });
});

describe('judgePairAttempt', () => {
  const now = 1_000_000;
  const fresh = { hash: 'h', expiresAt: now + 1, usedAt: null };
  const free = { senderLockedUntil: undefined, frozenUntil: undefined };
  it.each([
    ['a right, fresh code pairs', { match: fresh, ...free }, { ok: true }],
    ['a right code after a lockout ended pairs', { match: fresh, senderLockedUntil: now, frozenUntil: now - 5 }, { ok: true }],
    ['an unknown code is refused', { match: undefined, ...free }, { ok: false, reason: 'unknown' }],
    ['a used code is refused', { match: { ...fresh, usedAt: now - 5 }, ...free }, { ok: false, reason: 'used' }],
    ['an expired code is refused', { match: { ...fresh, expiresAt: now }, ...free }, { ok: false, reason: 'expired' }],
    ['a locked-out sender is refused even with the right code, and the refusal is no guess', { match: fresh, senderLockedUntil: now + 1, frozenUntil: undefined }, { ok: false, reason: 'sender_locked', countsAsWrong: false }],
    ['a locked-out sender stays locked whether or not pairing is frozen', { match: undefined, senderLockedUntil: now + 1, frozenUntil: now + 1 }, { ok: false, reason: 'sender_locked', countsAsWrong: false }],
    ['a global freeze refuses everyone, without extending itself', { match: fresh, senderLockedUntil: undefined, frozenUntil: now + 1 }, { ok: false, reason: 'pairing_frozen', countsAsWrong: false }],
    ['a wrong code counts', { match: undefined, ...free }, { ok: false, reason: 'unknown', countsAsWrong: true }],
  ])('%s', (_name, f, expected) => {
    expect(judgePairAttempt({ ...f, now })).toMatchObject(expected);
  });
});

describe('lockoutsAfterWrongGuess', () => {
  const now = 5_000_000;
  it.each([
    ['four wrong guesses lock nothing', { bySender: SENDER_WRONG_LIMIT - 1, global: SENDER_WRONG_LIMIT - 1 }, {}],
    ['the fifth locks the sender for an hour from now', { bySender: SENDER_WRONG_LIMIT, global: SENDER_WRONG_LIMIT }, { senderUntil: now + LOCKOUT_MS }],
    ['the twentieth across senders freezes pairing for an hour from now', { bySender: 1, global: GLOBAL_WRONG_LIMIT }, { frozenUntil: now + LOCKOUT_MS }],
  ])('%s', (_name, counts, expected) => {
    expect(lockoutsAfterWrongGuess({ ...counts, now })).toEqual(expected);
  });
});
