// The bridge store's unsynced transactions: committed like any other, and every other commit stays synced.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BridgeStore } from '../../../bridges/core/store.js';

const ref = { platform: 'telegram' as const, chatId: '42', kind: 'private' as const };
const NORMAL = 1;
const FULL = 2;

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function openStore(): BridgeStore {
  dir ??= mkdtempSync(join(tmpdir(), 'tether-store-'));
  return BridgeStore.open(dir, 'telegram');
}

const synchronous = (store: BridgeStore) => store.db.pragma('synchronous', { simple: true });

describe('unsynced transactions', () => {
  it('commit their rows without a sync, and the commits after them are synced again', () => {
    const store = openStore();
    store.setConversationThread('42', ref, 'thr_1', 1);
    store.unsyncedTransaction(() => {
      store.setEventCursor(7);
      expect(synchronous(store)).toBe(NORMAL);
    });
    expect(synchronous(store)).toBe(FULL);
    store.close();
    const reopened = openStore();
    expect(reopened.conversation('42')).toEqual({ ref, threadId: 'thr_1' });
    expect(reopened.threadConversation('thr_1')).toBe('42');
    expect(reopened.eventCursor()).toBe(7);
    reopened.close();
  });

  it('roll back whole when they throw, and leave the connection synced', () => {
    const store = openStore();
    expect(() =>
      store.unsyncedTransaction(() => {
        store.setEventCursor(9);
        throw new Error('halfway');
      }),
    ).toThrow('halfway');
    expect(store.eventCursor()).toBe(0);
    expect(synchronous(store)).toBe(FULL);
    store.close();
  });

  it('inside another transaction join it, and it stays synced', () => {
    const store = openStore();
    store.transaction(() => {
      store.unsyncedTransaction(() => store.setEventCursor(3));
      expect(synchronous(store)).toBe(FULL);
    });
    expect(store.eventCursor()).toBe(3);
    store.close();
  });
});
