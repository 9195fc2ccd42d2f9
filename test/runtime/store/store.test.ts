// The store on a real SQLite file: one increasing seq, all-or-nothing writes, a full disk as storage_unavailable.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpError } from '../../../lib/errors.js';
import { silentLogger } from '../../../lib/log.js';
import { RuntimeStore } from '../../../runtime/store/store.js';
import type { RuntimeEvent } from '../../../runtime/store/types.js';

let dir: string;
let store: RuntimeStore;
const open = () => RuntimeStore.open(join(dir, 'runtime.db'), { model: 'm', approval: 'ask' }, silentLogger);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tether-store-'));
  store = open();
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const thread = (id: string, metadata: Record<string, string> = {}) => store.insertThread({ id, title: id, model: null, approval: null, metadata });

describe('runtime store', () => {
  it('keeps the database private to its user', () => {
    expect(statSync(join(dir, 'runtime.db')).mode & 0o777).toBe(0o600);
  });

  it('numbers events with one seq across threads that never goes back, even after the newest rows are lost', () => {
    thread('a');
    thread('b');
    store.appendEvent('turn.queued', 'a', null, { input: 'x' });
    const highest = store.lastSeq();
    expect(store.eventsAfter(0, 100).map((e) => e.seq)).toEqual([1, 2, 3]);
    // As if the newest events had vanished (restored backup, manual cleanup): their numbers stay used.
    store.db.prepare('DELETE FROM events WHERE seq >= 2').run();
    store.close();
    store = open();
    const next = store.appendEvent('thread.updated', 'a', null, {});
    expect(next.seq).toBe(highest + 1);
  });

  it('publishes events only after their transaction commits, and none of a rolled-back one', () => {
    const seen: RuntimeEvent[] = [];
    store.onEvent((e) => seen.push(e));
    thread('a');
    expect(() =>
      store.write(() => {
        store.appendEvent('turn.queued', 'a', null, {});
        throw new Error('handler failed halfway');
      }),
    ).toThrow('halfway');
    expect(seen.map((e) => e.type)).toEqual(['thread.created']);
    expect(store.eventsAfter(0, 10)).toHaveLength(1);
    // The rolled-back seq is not skipped: the stream stays gap-free.
    expect(store.appendEvent('thread.updated', 'a', null, {}).seq).toBe(2);
  });

  it('coalesces streamed text written within a few ms into one event, before any later event', async () => {
    thread('a');
    store.db.prepare("INSERT INTO turns (id, thread_id, input, status, created_at) VALUES ('t1', 'a', 'in', 'running', 'now')").run();
    for (const piece of ['Hel', 'lo', ' there']) store.appendDelta('a', 't1', piece);
    store.appendEvent('tool.started', 'a', 't1', { tool: 'shell', summary: '$ ls' });
    const events = store.eventsAfter(1, 10);
    expect(events.map((e) => [e.type, e.text ?? e.tool])).toEqual([
      ['message.delta', 'Hello there'],
      ['tool.started', 'shell'],
    ]);
    store.appendDelta('a', 't1', 'later');
    await new Promise<void>((r) => {
      const off = store.onEvent((e) => {
        if (e.type === 'message.delta') {
          off();
          r();
        }
      });
    });
    expect(store.eventsAfter(3, 10).map((e) => e.text)).toEqual(['later']);
  });

  it('finds threads by metadata among many alike, newest first, whether a pair is rare or common', () => {
    const chat = (i: number) => ({ platform: 'telegram', bot: i % 2 === 0 ? 'even' : 'odd', conversation: String(i % 50) });
    for (let i = 0; i < 200; i++) thread(`t${i}`, chat(i));
    store.updateThread('t198', { archived: true });
    const ids = (metadata: Record<string, string>, limit = 500, archived?: boolean) => store.listThreads({ metadata, limit, ...(archived !== undefined ? { archived } : {}) }).map((t) => t.id);
    // conversation=48 is rare (4 threads): the lookup starts there; the other pairs still filter.
    expect(ids({ platform: 'telegram', bot: 'even', conversation: '48' })).toEqual(['t198', 't148', 't98', 't48']);
    expect(ids({ platform: 'telegram', bot: 'odd', conversation: '48' })).toEqual([]);
    expect(ids({ conversation: '48', platform: 'telegram' }, 1, false)).toEqual(['t148']);
    // Only common pairs: newest first, the limit honoured.
    expect(ids({ platform: 'telegram', bot: 'odd' }, 3)).toEqual(['t199', 't197', 't195']);
    expect(ids({ platform: 'telegram' }, 2, false)).toEqual(['t199', 't197']);
    expect(ids({ platform: 'feishu' })).toEqual([]);
  });

  it('a full disk fails the write as storage_unavailable with nothing half-written, and reads keep working', () => {
    thread('a', { platform: 'telegram' });
    const pages = store.db.pragma('page_count', { simple: true }) as number;
    store.db.pragma(`max_page_count = ${pages}`);
    const before = store.lastSeq();
    let caught: unknown;
    try {
      thread('b', { big: 'x'.repeat(900) , more: 'y'.repeat(900), evenmore: 'z'.repeat(900) });
      for (let i = 0; i < 50; i++) thread(`c${i}`, { pad: 'p'.repeat(999) });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(HttpError);
    expect((caught as HttpError).status).toBe(503);
    expect((caught as HttpError).code).toBe('storage_unavailable');
    expect((caught as HttpError).message).toMatch(/nothing was saved/);
    const after = store.listThreads({ limit: 500, metadata: {} });
    // Every thread that exists has its thread.created event, and no event exists without its thread.
    expect(store.eventsAfter(0, 1000).filter((e) => e.type === 'thread.created')).toHaveLength(after.length);
    expect(store.lastSeq()).toBe(before + after.length - 1);
    expect(store.getThread('a')?.metadata).toEqual({ platform: 'telegram' });
  });
});
