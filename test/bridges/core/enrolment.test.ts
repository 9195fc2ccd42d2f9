// Pairing attempts against a real store: the lockout of a sender and the global freeze each hold a full hour, stored.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { attemptPair, mintPairCode } from '../../../bridges/core/enrolment.js';
import { GLOBAL_WRONG_LIMIT, LOCKOUT_MS } from '../../../bridges/core/pairing.js';
import { BridgeStore } from '../../../bridges/core/store.js';

const MINUTE = 60_000;
const T0 = 1_800_000_000_000;

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function openStore(): BridgeStore {
  dir ??= mkdtempSync(join(tmpdir(), 'tether-enrol-'));
  return BridgeStore.open(dir, 'telegram');
}

const ref = (id: string) => ({ platform: 'telegram' as const, chatId: id, kind: 'private' as const });
const guess = (store: BridgeStore, senderId: string, typed: string, now: number) => attemptPair(store, { senderId, typed, ref: ref(senderId), now });

describe('pairing lockouts', () => {
  it('five wrong codes spread over 59 minutes lock the sender for the full hour after the fifth, and a restart keeps it', () => {
    let store = openStore();
    expect(guess(store, '7', 'WRONGAAA', T0)).toMatchObject({ ok: false, reason: 'unknown' });
    for (let i = 0; i < 4; i++) expect(guess(store, '7', `WRONG${i}AA`, T0 + 59 * MINUTE)).toMatchObject({ ok: false, reason: 'unknown' });
    const fifth = T0 + 59 * MINUTE;
    // The first guess has left the hour's window by now; the lockout has not.
    const code = mintPairCode(store, T0 + 60 * MINUTE).code;
    expect(guess(store, '7', code, T0 + 60 * MINUTE)).toMatchObject({ ok: false, reason: 'sender_locked' });
    store.close();
    store = openStore();
    expect(guess(store, '7', code, fifth + LOCKOUT_MS - 1)).toMatchObject({ ok: false, reason: 'sender_locked' });
    expect(guess(store, '7', code, fifth + LOCKOUT_MS)).toEqual({ ok: true });
    store.close();
  });

  it('refusals during a lockout guess nothing: they neither count nor extend it', () => {
    const store = openStore();
    for (let i = 0; i < 5; i++) guess(store, '8', `WRONG${i}AA`, T0);
    for (let i = 0; i < 30; i++) expect(guess(store, '8', 'WRONGBBB', T0 + 30 * MINUTE)).toMatchObject({ reason: 'sender_locked', countsAsWrong: false });
    const code = mintPairCode(store, T0 + LOCKOUT_MS).code;
    expect(guess(store, '8', code, T0 + LOCKOUT_MS)).toEqual({ ok: true });
    store.close();
  });

  it(`${GLOBAL_WRONG_LIMIT} wrong codes across senders freeze pairing for everyone for the full hour after the last`, () => {
    const store = openStore();
    // One guess each from many senders (none locked), the last 19 at minute 50.
    guess(store, 'a', 'WRONGAAA', T0);
    for (let i = 1; i < GLOBAL_WRONG_LIMIT; i++) guess(store, `s${i}`, 'WRONGAAA', T0 + 50 * MINUTE);
    const frozenAt = T0 + 50 * MINUTE;
    const code = mintPairCode(store, T0 + 61 * MINUTE).code;
    expect(guess(store, 'newcomer', code, T0 + 61 * MINUTE)).toMatchObject({ ok: false, reason: 'pairing_frozen', countsAsWrong: false });
    expect(guess(store, 'newcomer', code, frozenAt + LOCKOUT_MS - 1)).toMatchObject({ ok: false, reason: 'pairing_frozen' });
    expect(guess(store, 'newcomer', code, frozenAt + LOCKOUT_MS)).toEqual({ ok: true });
    store.close();
  });
});
