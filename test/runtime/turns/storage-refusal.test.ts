// A store that refuses writes (disk full, read-only state dir) mid-way: acknowledged turns keep their place and end exactly once.
import { afterEach, describe, expect, it } from 'vitest';
import { storageUnavailable, type RuntimeStore } from '../../../runtime/store/store.js';
import type { RuntimeEvent } from '../../../runtime/store/types.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import type { SseStream } from '../../support/sse.js';
import { waitUntil } from '../../support/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A runtime whose store refuses every write while `refusing()` is true; `onEvent` sees commits as they happen. */
async function runtimeWithFaultyStore(env: Record<string, string>, onEvent: (e: RuntimeEvent, refuse: (on: boolean) => void) => void) {
  let refusing = false;
  const refuse = (on: boolean) => (refusing = on);
  const rt = await startTestRuntime(env, {
    onStoreOpened: (store: RuntimeStore) => {
      const write = store.write.bind(store);
      store.write = <T>(fn: () => T): T => {
        if (refusing) throw storageUnavailable(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
        return write(fn);
      };
      store.onEvent((e) => onEvent(e, refuse));
    },
  });
  cleanups.push(() => rt.stop());
  return { rt, refuse };
}

async function metric(rt: TestRuntime, name: string): Promise<number> {
  const text = (await rt.api('GET', '/metrics')).body as string;
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)![1]);
}


const endsOf = (s: SseStream, turnId: string) => s.events.filter((e) => e.data.turn_id === turnId && ['turn.completed', 'turn.failed', 'turn.cancelled', 'turn.interrupted'].includes(e.event!));
const seqOf = (s: SseStream, type: string, turnId: string) => Number(s.events.find((e) => e.event === type && e.data.turn_id === turnId)?.id);

describe('storage that refuses writes', () => {
  it('a turn whose start cannot be recorded stays first in line and runs once writes work again', async () => {
    const { rt, refuse } = await runtimeWithFaultyStore({}, (e, refuse) => {
      // Right after the 202's commit, before the turn starts.
      if (e.type === 'turn.queued' && e.input === 'first') refuse(true);
    });
    const thread = await rt.newThread();
    const events = await rt.events(`/v1/threads/${thread.id}/events?after=0`);
    cleanups.push(() => events.close());
    const first = await rt.api('POST', `/v1/threads/${thread.id}/turns`, { input: 'first' });
    expect(first.status).toBe(202);
    await waitUntil(async () => (await metric(rt, 'tether_storage_write_failures_total')) >= 1, 'the start write was refused');
    expect((await rt.api('GET', `/v1/threads/${thread.id}/turns/${first.body.id}`)).body.status).toBe('queued');
    expect(await metric(rt, 'tether_queue_depth')).toBe(1);
    expect(await metric(rt, 'tether_storage_blocked')).toBe(1);
    const refused = await rt.api('POST', `/v1/threads/${thread.id}/turns`, { input: 'refused' });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('storage_unavailable');

    refuse(false);
    await events.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === first.body.id);
    const third = (await rt.api('POST', `/v1/threads/${thread.id}/turns`, { input: 'third' })).body;
    await events.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === third.id);
    expect(endsOf(events, first.body.id).map((e) => e.event)).toEqual(['turn.completed']);
    expect(seqOf(events, 'turn.completed', first.body.id)).toBeLessThan(seqOf(events, 'turn.started', third.id));
    expect(await metric(rt, 'tether_storage_blocked')).toBe(0);
  });

  it('a turn whose end cannot be recorded keeps its thread and ends exactly once when writes work again', async () => {
    let slowTurn = '';
    let refusedOnce = false;
    const { rt, refuse } = await runtimeWithFaultyStore({}, (e, refuse) => {
      // Once, on the first streamed text: the rest of the text and the end then cannot be written.
      if (e.type === 'message.delta' && e.turn_id === slowTurn && !refusedOnce) {
        refusedOnce = true;
        refuse(true);
      }
    });
    const thread = await rt.newThread();
    const events = await rt.events(`/v1/threads/${thread.id}/events?after=0`);
    cleanups.push(() => events.close());
    rt.model.enqueue({ chunks: ['one ', 'two ', 'three'], chunkDelayMs: 30 });
    const slow = (await rt.api('POST', `/v1/threads/${thread.id}/turns`, { input: 'slow' })).body;
    slowTurn = slow.id;
    const next = (await rt.api('POST', `/v1/threads/${thread.id}/turns`, { input: 'next' })).body;
    await events.waitFor((e) => e.event === 'message.delta' && e.data.turn_id === slow.id);
    await waitUntil(async () => (await metric(rt, 'tether_storage_write_failures_total')) >= 1, 'the end write was refused');
    expect((await rt.api('GET', `/v1/threads/${thread.id}/turns/${next.id}`)).body.status).toBe('queued');

    refuse(false);
    await events.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === next.id);
    expect(endsOf(events, slow.id).map((e) => e.event)).toEqual(['turn.completed']);
    expect(endsOf(events, slow.id)[0]!.data.output).toBe('one two three');
    expect(seqOf(events, 'turn.completed', slow.id)).toBeLessThan(seqOf(events, 'turn.started', next.id));
    expect(endsOf(events, next.id)).toHaveLength(1);
  });
});
