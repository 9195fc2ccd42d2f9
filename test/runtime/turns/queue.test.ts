// TurnQueue rules as tables: FIFO per thread, a worker limit across threads, waiting turns keep their thread.
import { describe, expect, it } from 'vitest';
import { TurnQueue } from '../../../runtime/turns/queue.js';

const take = (q: TurnQueue) => q.take()?.turnId;

describe('TurnQueue', () => {
  it('serves turns in the order posted, skipping threads that are busy', () => {
    const q = new TurnQueue(2);
    for (const [turnId, threadId] of [['a1', 'A'], ['a2', 'A'], ['b1', 'B'], ['c1', 'C']] as const) q.add({ turnId, threadId });
    expect([take(q), take(q), take(q)]).toEqual(['a1', 'b1', undefined]);
    q.release({ turnId: 'a1', threadId: 'A' }, false);
    expect(take(q)).toBe('a2');
    q.release({ turnId: 'b1', threadId: 'B' }, false);
    expect(take(q)).toBe('c1');
    expect(q.runningCount).toBe(2);
    expect(q.queuedCount).toBe(0);
  });

  it('a turn waiting for a person frees its worker but keeps its thread; its resume comes first', () => {
    const q = new TurnQueue(1);
    q.add({ turnId: 'a1', threadId: 'A' });
    q.add({ turnId: 'a2', threadId: 'A' });
    q.add({ turnId: 'b1', threadId: 'B' });
    expect(take(q)).toBe('a1');
    q.release({ turnId: 'a1', threadId: 'A' }, true);
    expect(take(q)).toBe('b1');
    q.requestResume({ turnId: 'a1', threadId: 'A' });
    expect(q.take()).toBeUndefined();
    q.release({ turnId: 'b1', threadId: 'B' }, false);
    expect(q.take()).toEqual({ turnId: 'a1', threadId: 'A', kind: 'resume' });
    q.release({ turnId: 'a1', threadId: 'A' }, false);
    expect(q.take()).toEqual({ turnId: 'a2', threadId: 'A', kind: 'start' });
  });

  it('a turn put back (its start could not be recorded) is served again before later turns of its thread', () => {
    const q = new TurnQueue(1);
    q.add({ turnId: 'a1', threadId: 'A' });
    q.add({ turnId: 'a2', threadId: 'A' });
    const first = q.take()!;
    q.putBack(first);
    expect(q.runningCount).toBe(0);
    expect(q.queuedCount).toBe(2);
    expect(q.take()).toEqual({ turnId: 'a1', threadId: 'A', kind: 'start' });
    q.release({ turnId: 'a1', threadId: 'A' }, true);
    q.requestResume({ turnId: 'a1', threadId: 'A' });
    q.putBack(q.take()!);
    expect(q.take()).toEqual({ turnId: 'a1', threadId: 'A', kind: 'resume' });
  });

  it('a held turn from before a restart blocks its thread until unheld', () => {
    const q = new TurnQueue(4);
    q.hold({ turnId: 'a0', threadId: 'A' });
    q.add({ turnId: 'a1', threadId: 'A' });
    expect(q.take()).toBeUndefined();
    q.unhold({ turnId: 'a0', threadId: 'A' });
    expect(take(q)).toBe('a1');
  });

  it('removes a queued turn and says whether it was queued', () => {
    const q = new TurnQueue(1);
    q.add({ turnId: 'a1', threadId: 'A' });
    expect(q.isQueued('a1')).toBe(true);
    expect(q.remove('a1')).toBe(true);
    expect(q.remove('a1')).toBe(false);
    expect(q.take()).toBeUndefined();
  });
});
