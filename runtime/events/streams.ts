// SSE: replay stored events after the client's cursor, then live ones, with no gap and no duplicate.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../lib/log.js';
import type { RuntimeStore } from '../store/store.js';
import type { RuntimeEvent } from '../store/types.js';

export interface StreamOptions {
  /** Comment line interval, so proxies and clients see the connection alive (contract: ≤ 15 s). */
  pingMs: number;
  /** A client whose unsent bytes pass this is dropped; it resumes from its cursor. */
  maxBufferedBytes: number;
  /** A client whose socket takes none of its backlog for this long is dropped; it resumes from its cursor. */
  drainTimeoutMs: number;
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = { pingMs: 15_000, maxBufferedBytes: 1024 * 1024, drainTimeoutMs: 30_000 };
const REPLAY_PAGE = 500;
/** A replay page also stops at this many bytes of payload, so a page of big events is not all in memory at once. */
const REPLAY_PAGE_BYTES = 1024 * 1024;
/** Replay writes the next event only once the socket has taken all but this much. */
const REPLAY_HIGH_WATER = 64 * 1024;

export function formatEvent(e: RuntimeEvent): string {
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

interface Client {
  res: ServerResponse;
  threadId: string | undefined;
  lastSent: number;
  live: boolean;
}

export class EventStreams {
  private readonly clients = new Set<Client>();

  constructor(
    private readonly store: RuntimeStore,
    private readonly options: StreamOptions,
    private readonly logger: Logger,
  ) {
    store.onEvent((e) => this.broadcast(e));
  }

  get clientCount(): number {
    return this.clients.size;
  }

  get bufferedBytes(): number {
    let total = 0;
    for (const c of this.clients) total += c.res.writableLength;
    return total;
  }

  /** Serves one stream until the client goes away; `after` is the last seq the client has. */
  serve(req: IncomingMessage, res: ServerResponse, threadId: string | undefined, after: number): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write(': connected\n\n');
    res.socket?.setNoDelay(true);
    const client: Client = { res, threadId, lastSent: after, live: false };
    this.clients.add(client);
    const ping = setInterval(() => this.send(client, ': ping\n\n'), this.options.pingMs);
    const closed = () => {
      clearInterval(ping);
      this.clients.delete(client);
    };
    res.on('close', closed);
    req.on('close', closed);
    void this.replay(client);
  }

  /**
   * Reads stored events page by page, one event at a time onto the socket, waiting for it to drain
   * whenever more than a little is queued, so a client that reads slowly (or not at all) costs the
   * runtime about one event of memory, never its history. Live events that arrive meanwhile are
   * ignored: they are in the store, and the client switches to live in the same synchronous step as
   * the read that found nothing more, so no commit can fall between them.
   */
  private async replay(client: Client): Promise<void> {
    try {
      while (this.clients.has(client)) {
        const page = this.store.eventsAfter(client.lastSent, REPLAY_PAGE, client.threadId, REPLAY_PAGE_BYTES);
        if (page.length === 0) {
          client.live = true;
          return;
        }
        for (const e of page) {
          if (!this.clients.has(client)) return;
          client.res.write(formatEvent(e));
          client.lastSent = e.seq;
          if (client.res.writableLength > REPLAY_HIGH_WATER && !(await this.drained(client))) return;
        }
      }
    } catch (err) {
      this.logger.error('event replay failed', { err });
      this.drop(client);
    }
  }

  /** True once the client's backlog is below the high water; false (and dropped) if it went away or stalled. */
  private async drained(client: Client): Promise<boolean> {
    const { res } = client;
    while (res.writableLength > REPLAY_HIGH_WATER) {
      const before = res.writableLength;
      const outcome = await new Promise<'drain' | 'close' | 'stalled'>((resolve) => {
        const done = (how: 'drain' | 'close' | 'stalled') => () => {
          clearTimeout(timer);
          res.off('drain', onDrain);
          res.off('close', onClose);
          resolve(how);
        };
        const onDrain = done('drain');
        const onClose = done('close');
        const timer = setTimeout(done('stalled'), this.options.drainTimeoutMs);
        res.on('drain', onDrain);
        res.on('close', onClose);
      });
      if (outcome === 'close' || res.destroyed) return false;
      // A socket that took something is slow, not stalled: give it another interval.
      if (outcome === 'stalled' && res.writableLength >= before) {
        this.logger.warn('dropping an event stream client that stopped reading', { buffered: res.writableLength, last_seq: client.lastSent });
        this.drop(client);
        return false;
      }
    }
    return this.clients.has(client);
  }

  private drop(client: Client): void {
    this.clients.delete(client);
    client.res.destroy();
  }

  private broadcast(e: RuntimeEvent): void {
    for (const c of this.clients) {
      if (!c.live || e.seq <= c.lastSent) continue;
      if (c.threadId !== undefined && e.thread_id !== c.threadId) continue;
      c.lastSent = e.seq;
      this.send(c, formatEvent(e));
    }
  }

  private send(c: Client, text: string): void {
    if (c.res.destroyed) return;
    // Checked before writing: one large event may pass, but a backlog that does not drain may not grow.
    if (c.res.writableLength <= this.options.maxBufferedBytes) c.res.write(text);
    else {
      // A stalled reader must not hold memory or slow the others; it comes back with Last-Event-ID.
      this.logger.warn('dropping a slow event stream client', { buffered: c.res.writableLength, last_seq: c.lastSent });
      this.drop(c);
    }
  }

  closeAll(): void {
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }
}
