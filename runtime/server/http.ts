// The runtime's node:http server: guards, body limit, route matching, and errors in the contract's shape.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HttpError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { checkHost, checkOrigin, checkToken } from './guards.js';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body; undefined when the request had none. */
  body: unknown;
}

/** What a JSON handler returns; a streaming handler writes to ctx.res itself and returns undefined. */
export interface Reply {
  status: number;
  body: unknown;
  contentType?: string;
}

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Segments with `:name` placeholders, e.g. /v1/threads/:id. */
  path: string;
  handler: (ctx: RequestContext) => Reply | undefined | Promise<Reply | undefined>;
  /** Only /health and /metrics are open; everything under /v1 needs the token. */
  open?: boolean;
}

export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(':')) {
      if (g === '') return undefined;
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) return undefined;
  }
  return params;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, 'body_too_large', `the body is ${declared} bytes; at most ${MAX_BODY_BYTES} (1 MiB) are accepted`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'body_too_large', `the body is over ${MAX_BODY_BYTES} bytes (1 MiB), the most accepted`);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(400, 'bad_request', `the body is not valid JSON (${(err as Error).message})`);
  }
}

export interface ServerOptions {
  routes: readonly Route[];
  token: string;
  allowedOrigins: readonly string[];
  logger: Logger;
  /** How long a client may take to send a whole request (headers and body); default 30 s. */
  requestTimeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export function createApiServer(options: ServerOptions): Server {
  const { routes, logger } = options;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    checkHost(req.headers);
    checkOrigin(req.headers, options.allowedOrigins);
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    // Token first, so an unauthenticated caller learns nothing about which routes or ids exist.
    if (path === '/v1' || path.startsWith('/v1/')) checkToken(req.headers, options.token);
    let allowed: string[] = [];
    for (const route of routes) {
      const params = matchPath(route.path, path);
      if (!params) continue;
      if (route.method !== req.method) {
        allowed.push(route.method);
        continue;
      }
      const body = req.method === 'GET' || req.method === 'DELETE' ? undefined : await readBody(req);
      const reply = await route.handler({ req, res, params, query: url.searchParams, body });
      if (reply) {
        if (reply.contentType) {
          res.writeHead(reply.status, { 'content-type': reply.contentType, 'cache-control': 'no-store' });
          res.end(reply.body as string);
        } else sendJson(res, reply.status, reply.body);
      }
      return;
    }
    allowed = [...new Set(allowed)];
    if (allowed.length > 0) {
      res.setHeader('allow', allowed.join(', '));
      throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${path}; use ${allowed.join(' or ')}`);
    }
    throw new HttpError(404, 'not_found', `no route ${req.method} ${path}`);
  };

  // A body that trickles in forever would hold a connection and its buffers; the timeout covers
  // receiving the request only, so event streams (long responses) are not cut by it.
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const serverOptions = { requestTimeout, headersTimeout: requestTimeout, connectionsCheckingInterval: Math.max(50, Math.min(requestTimeout / 4, 5_000)) };
  return createServer(serverOptions, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      const httpErr = err instanceof HttpError ? err : undefined;
      if (!httpErr) logger.error('request failed', { method: req.method, path: req.url?.split('?')[0], err });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const e = httpErr ?? new HttpError(500, 'internal', 'the runtime hit an unexpected error; its log has the details');
      // An oversized body is not read to its end; close so the client is not left writing.
      if (e.status === 413) res.setHeader('connection', 'close');
      sendJson(res, e.status, e.toBody());
    });
  });
}
