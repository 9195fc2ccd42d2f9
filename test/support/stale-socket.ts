// A server side that drops a kept-alive connection as the next request arrives on it, as a server whose idle timeout fired just as the client reused the socket.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface DroppingHandler {
  /** The request handler to serve: answers the first request of each connection with `answer`, destroys the connection on the second. */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** `METHOD /path` of every request in arrival order, `(destroyed)` after those that found the connection gone. */
  seen: string[];
}

export function dropReusedConnections(answer: (req: IncomingMessage, res: ServerResponse) => void): DroppingHandler {
  const perSocket = new Map<unknown, number>();
  const seen: string[] = [];
  return {
    seen,
    handler(req, res) {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      seen.push(`${req.method} ${req.url}${n > 1 ? ' (destroyed)' : ''}`);
      if (n > 1) return void req.socket.destroy();
      answer(req, res);
    },
  };
}
