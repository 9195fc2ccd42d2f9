// Pairing rules by table: alphabet, normalising, hashing, and the verdict of an attempt.
import { describe, expect, it } from 'vitest';
import { CODE_ALPHABET, GLOBAL_WRONG_LIMIT, SENDER_WRONG_LIMIT, hashCode, judgePairAttempt, mintCode, normalizeCode, sameHash } from '../../../bridges/core/pairing.js';

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
  it.each([
    ['a right, fresh code pairs', { match: fresh, s: 0, g: 0 }, { ok: true }],
    ['a right code after 4 wrong ones still pairs', { match: fresh, s: SENDER_WRONG_LIMIT - 1, g: 0 }, { ok: true }],
    ['an unknown code is refused', { match: undefined, s: 0, g: 0 }, { ok: false, reason: 'unknown' }],
    ['a used code is refused', { match: { ...fresh, usedAt: now - 5 }, s: 0, g: 0 }, { ok: false, reason: 'used' }],
    ['an expired code is refused', { match: { ...fresh, expiresAt: now }, s: 0, g: 0 }, { ok: false, reason: 'expired' }],
    ['a locked-out sender is refused even with the right code, and the refusal is no guess', { match: fresh, s: SENDER_WRONG_LIMIT, g: 0 }, { ok: false, reason: 'sender_locked', countsAsWrong: false }],
    ['a locked-out sender stays locked whatever the global count', { match: undefined, s: SENDER_WRONG_LIMIT, g: GLOBAL_WRONG_LIMIT }, { ok: false, reason: 'sender_locked', countsAsWrong: false }],
    ['a global flood freezes pairing for everyone, without extending itself', { match: fresh, s: 0, g: GLOBAL_WRONG_LIMIT }, { ok: false, reason: 'pairing_frozen', countsAsWrong: false }],
    ['a wrong code counts', { match: undefined, s: 0, g: 0 }, { ok: false, reason: 'unknown', countsAsWrong: true }],
  ])('%s', (_name, f, expected) => {
    expect(judgePairAttempt({ match: f.match, wrongBySenderInWindow: f.s, wrongGlobalInWindow: f.g, now })).toMatchObject(expected);
  });
});
