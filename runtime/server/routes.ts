// The runtime API: one table of routes, each a plain handler over the store and the turn engine.
import { HttpError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { VERSION } from '../../lib/version.js';
import type { EventStreams } from '../events/streams.js';
import { renderMetrics, type RuntimeCounters } from '../metrics.js';
import type { RuntimeStore } from '../store/store.js';
import { TURN_STATUSES, type Thread, type Turn } from '../store/types.js';
import type { TurnEngine } from '../turns/engine.js';
import type { RequestContext, Route } from './http.js';
import { parseApprovalQuery, parseCursor, parseDecision, parseIdempotencyKey, parseNewThread, parseNewTurn, parseThreadChanges, parseThreadQuery } from './validate.js';

export interface ApiDeps {
  store: RuntimeStore;
  engine: TurnEngine;
  streams: EventStreams;
  counters: RuntimeCounters;
}

/** Turns shown with a thread: the newest, oldest first. */
const THREAD_TURNS = 50;

export function buildRoutes(deps: ApiDeps): Route[] {
  const { store, engine, streams } = deps;

  const threadOr404 = (id: string | undefined): Thread => {
    const t = id === undefined ? undefined : store.getThread(id);
    if (!t) throw new HttpError(404, 'not_found', `no thread ${id ?? ''}`);
    return t;
  };
  const turnOr404 = (threadId: string | undefined, turnId: string | undefined): Turn => {
    threadOr404(threadId);
    const turn = turnId === undefined ? undefined : store.getTurn(turnId);
    if (!turn || turn.thread_id !== threadId) throw new HttpError(404, 'not_found', `no turn ${turnId ?? ''} in thread ${threadId ?? ''}`);
    return turn;
  };

  const postTurn = ({ req, params, body }: RequestContext) => {
    const thread = threadOr404(params.id);
    const { input } = parseNewTurn(body);
    const key = parseIdempotencyKey(req.headers['idempotency-key']);
    if (key !== null) {
      const earlier = store.findTurnByKey(thread.id, key);
      if (earlier) {
        if (earlier.input !== input) throw new HttpError(409, 'idempotency_key_reused', `Idempotency-Key ${JSON.stringify(key)} was already used on this thread for a different input; use a new key for a new message`);
        return { status: 200, body: earlier };
      }
    }
    const turn = store.insertTurn({ id: newId('turn'), threadId: thread.id, input, idempotencyKey: key });
    engine.enqueue(turn);
    return { status: 202, body: turn };
  };

  const streamEvents = (ctx: RequestContext, threadId: string | undefined) => {
    if (threadId !== undefined) threadOr404(threadId);
    const after = parseCursor(ctx.query, ctx.req.headers['last-event-id'], store.lastSeq());
    streams.serve(ctx.req, ctx.res, threadId, after);
    return undefined;
  };

  const schedulesLater = () => {
    throw new HttpError(501, 'not_available', 'schedules come in a later release of Tether; this runtime does not run them yet');
  };

  return [
    { method: 'GET', path: '/health', open: true, handler: () => ({ status: 200, body: { status: 'ok', version: VERSION } }) },
    {
      method: 'GET',
      path: '/metrics',
      open: true,
      handler: () => ({
        status: 200,
        contentType: 'text/plain; version=0.0.4; charset=utf-8',
        body: renderMetrics(
          {
            turnsByStatus: store.countTurnsByStatus(),
            queueDepth: engine.queuedCount,
            runningTurns: engine.runningCount,
            sseClients: streams.clientCount,
            sseBufferedBytes: streams.bufferedBytes,
            lastSeq: store.lastSeq(),
            uptimeSeconds: (Date.now() - deps.counters.startedAt) / 1000,
            modelLatency: deps.counters.modelLatency,
            modelErrors: deps.counters.modelErrors,
            toolRuns: deps.counters.toolRuns,
            storageWriteFailures: deps.counters.storageWriteFailures,
            storageBlocked: engine.storageBlocked,
          },
          TURN_STATUSES,
        ),
      }),
    },
    {
      method: 'POST',
      path: '/v1/threads',
      handler: ({ body }) => {
        const { thread, reuse } = parseNewThread(body);
        const { created, thread: answer } = store.reuseOrInsertThread({ id: newId('thr'), ...thread }, reuse);
        return { status: created ? 201 : 200, body: answer };
      },
    },
    { method: 'GET', path: '/v1/threads', handler: ({ query }) => ({ status: 200, body: { threads: store.listThreads(parseThreadQuery(query)) } }) },
    { method: 'GET', path: '/v1/threads/:id', handler: ({ params }) => ({ status: 200, body: { ...threadOr404(params.id), turns: store.recentTurns(params.id!, THREAD_TURNS) } }) },
    {
      method: 'PATCH',
      path: '/v1/threads/:id',
      handler: ({ params, body }) => {
        const changes = parseThreadChanges(body);
        return { status: 200, body: store.updateThread(threadOr404(params.id).id, changes) };
      },
    },
    { method: 'POST', path: '/v1/threads/:id/turns', handler: postTurn },
    { method: 'GET', path: '/v1/threads/:id/turns/:turn', handler: ({ params }) => ({ status: 200, body: turnOr404(params.id, params.turn) }) },
    { method: 'POST', path: '/v1/threads/:id/turns/:turn/cancel', handler: async ({ params }) => ({ status: 200, body: await engine.cancel(turnOr404(params.id, params.turn).id) }) },
    { method: 'GET', path: '/v1/approvals', handler: ({ query }) => ({ status: 200, body: { approvals: store.listApprovals(parseApprovalQuery(query)) } }) },
    {
      method: 'GET',
      path: '/v1/approvals/:id',
      handler: ({ params }) => {
        const a = store.getApproval(params.id!);
        if (!a) throw new HttpError(404, 'not_found', `no approval ${params.id!}`);
        return { status: 200, body: a };
      },
    },
    {
      method: 'POST',
      path: '/v1/approvals/:id',
      handler: ({ params, body }) => {
        const decision = parseDecision(body);
        const a = engine.approvals.decide(params.id!, decision);
        return { status: 200, body: { id: a.id, status: a.status, decision, tool: a.tool, summary: a.summary, thread_id: a.thread_id, turn_id: a.turn_id } };
      },
    },
    { method: 'GET', path: '/v1/events', handler: (ctx) => streamEvents(ctx, undefined) },
    { method: 'GET', path: '/v1/threads/:id/events', handler: (ctx) => streamEvents(ctx, ctx.params.id) },
    { method: 'POST', path: '/v1/schedules', handler: schedulesLater },
    { method: 'GET', path: '/v1/schedules', handler: schedulesLater },
    { method: 'DELETE', path: '/v1/schedules/:id', handler: schedulesLater },
  ];
}
