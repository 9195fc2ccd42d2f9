// Driving the runtime under test: a client, and a watcher that notes when each turn's end is seen on /v1/events.
import { createRuntimeClient, type RuntimeClient, type RuntimeEvent } from '../../lib/runtime-client.js';
import { startRuntime, type RuntimeOptions, type RuntimeUnderTest } from './processes.js';

export function clientOf(rt: RuntimeUnderTest): RuntimeClient {
  return createRuntimeClient({ url: rt.url, token: rt.token, timeoutMs: 60_000 });
}

const TURN_ENDS = new Set(['turn.completed', 'turn.failed', 'turn.cancelled', 'turn.interrupted']);

export interface TurnEnd {
  type: string;
  /** performance.now() when this process read the event off the stream. */
  seenAt: number;
}

/** Follows every thread's events from a cursor and hands out, per turn, when its end arrived. */
export class TurnEndWatcher {
  private readonly ends = new Map<string, TurnEnd>();
  private readonly waiters = new Map<string, (end: TurnEnd) => void>();
  private readonly controller = new AbortController();
  private connected!: () => void;
  /** Resolves once the stream is open, so nothing posted afterwards can be missed. */
  readonly ready = new Promise<void>((resolve) => (this.connected = resolve));
  events = 0;

  constructor(client: RuntimeClient, after: number) {
    void client.followEvents({
      after,
      signal: this.controller.signal,
      onState: (state) => {
        if (state === 'connected') this.connected();
      },
      onEvent: (e: RuntimeEvent) => {
        this.events++;
        if (!TURN_ENDS.has(e.type) || !e.turn_id) return;
        const end = { type: e.type, seenAt: performance.now() };
        const waiter = this.waiters.get(e.turn_id);
        if (waiter) {
          this.waiters.delete(e.turn_id);
          waiter(end);
        } else this.ends.set(e.turn_id, end);
      },
    });
  }

  waitFor(turnId: string, timeoutMs = 60_000): Promise<TurnEnd> {
    const seen = this.ends.get(turnId);
    if (seen) {
      this.ends.delete(turnId);
      return Promise.resolve(seen);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(turnId);
        reject(new Error(`turn ${turnId} did not end within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(turnId, (end) => {
        clearTimeout(timer);
        resolve(end);
      });
    });
  }

  stop(): void {
    this.controller.abort();
  }
}

/** Creates `count` threads for the benchmark (metadata says where they came from). */
export async function createThreads(client: RuntimeClient, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await client.createThread({ title: `bench ${i}`, metadata: { platform: 'bench', conversation: String(i) } })).id);
  return ids;
}

/** The largest seq stored so far (a thread's last_seq is its own; this is everyone's). */
export async function currentSeq(client: RuntimeClient, threadIds: readonly string[]): Promise<number> {
  let max = 0;
  for (const id of threadIds) max = Math.max(max, (await client.getThread(id)).last_seq);
  return max;
}

/** Starts the runtime under test with a client, runs `body`, and stops both whatever happens. */
export async function withRuntime<T>(options: RuntimeOptions, body: (rt: RuntimeUnderTest, client: RuntimeClient) => Promise<T>): Promise<T> {
  const rt = await startRuntime(options);
  const client = clientOf(rt);
  try {
    return await body(rt, client);
  } finally {
    await client.close();
    await rt.stop();
  }
}

/** Creates `count` threads and a watcher of their turn ends, open before anything is posted. */
export async function watchedThreads(client: RuntimeClient, count: number): Promise<{ threads: string[]; watcher: TurnEndWatcher }> {
  const threads = await createThreads(client, count);
  const watcher = new TurnEndWatcher(client, await currentSeq(client, threads));
  await watcher.ready;
  return { threads, watcher };
}
