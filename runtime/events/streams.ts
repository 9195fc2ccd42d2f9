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
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = { pingMs: 15_000, maxBufferedBytes: 1024 * 1024 };
const REPLAY_PAGE = 500;

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
   * Reads stored events page by page. Live events that arrive meanwhile are ignored: they are in
   * the store, and the last page is read and the client switched to live in one synchronous step,
   * so no commit can fall between them.
   */
  private async replay(client: Client): Promise<void> {
    try {
      while (this.clients.has(client)) {
        const page = this.store.eventsAfter(client.lastSent, REPLAY_PAGE, client.threadId);
        for (const e of page) {
          client.res.write(formatEvent(e));
          client.lastSent = e.seq;
        }
        if (page.length < REPLAY_PAGE) {
          client.live = true;
          return;
        }
        if (client.res.writableLength > this.options.maxBufferedBytes / 2) await this.drained(client.res);
      }
    } catch (err) {
      this.logger.error('event replay failed', { err });
      client.res.destroy();
    }
  }

  private drained(res: ServerResponse): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
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
      this.clients.delete(c);
      c.res.destroy();
    }
  }

  closeAll(): void {
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }
}
