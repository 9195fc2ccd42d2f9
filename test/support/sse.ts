// A small SSE reader for tests: collects parsed events and comments, and waits for the one a test needs.
import { request, type IncomingMessage } from 'node:http';

export interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  // Tests read whatever the runtime sent.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  data: any;
}

export interface SseStream {
  status: number;
  events: SseEvent[];
  comments: string[];
  /** Resolves with the first collected event (old or new) matching; rejects on timeout or end. */
  waitFor(match: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  waitForComment(match: (c: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
  response: IncomingMessage;
}

/** Opens `url` (a full URL) as an event stream; resolves once the response headers arrived. */
export function openEventStream(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const events: SseEvent[] = [];
      const comments: string[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      let endedFlag = false;
      let endResolve!: () => void;
      const ended = new Promise<void>((r) => (endResolve = r));
      const notify = () => {
        for (const w of [...waiters]) w();
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let sep;
        while ((sep = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, sep);
          buffer = buffer.slice(sep + 2);
          const e: SseEvent = { id: undefined, event: undefined, data: undefined };
          let data: string | undefined;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('id: ')) e.id = line.slice(4);
            else if (line.startsWith('event: ')) e.event = line.slice(7);
            else if (line.startsWith('data: ')) data = (data === undefined ? '' : data + '\n') + line.slice(6);
          }
          if (data !== undefined) {
            e.data = JSON.parse(data);
            events.push(e);
          }
        }
        notify();
      });
      const finish = () => {
        endedFlag = true;
        endResolve();
        notify();
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
      const waitGeneric = <T>(find: () => T | undefined, what: string, timeoutMs: number) =>
        new Promise<T>((ok, fail) => {
          const check = () => {
            const found = find();
            if (found !== undefined) {
              cleanup();
              ok(found);
            } else if (endedFlag) {
              cleanup();
              fail(new Error(`stream ended before ${what}; got ${events.map((x) => x.event).join(', ')}`));
            }
          };
          const timer = setTimeout(() => {
            cleanup();
            fail(new Error(`timed out waiting for ${what}; got ${events.map((x) => `${x.id}:${x.event}`).join(', ')}`));
          }, timeoutMs);
          const cleanup = () => {
            clearTimeout(timer);
            waiters.delete(check);
          };
          waiters.add(check);
          check();
        });
      resolve({
        status: res.statusCode ?? 0,
        events,
        comments,
        response: res,
        ended,
        waitFor: (match, timeoutMs = 10_000) => waitGeneric(() => events.find(match), 'the expected event', timeoutMs),
        waitForComment: (match, timeoutMs = 10_000) => waitGeneric(() => comments.find(match), 'the expected comment', timeoutMs),
        close: () => {
          req.destroy();
          res.destroy();
        },
      });
    });
    req.on('error', reject);
    req.end();
  });
}
