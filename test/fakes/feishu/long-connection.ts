// The fake's long-connection side: a `ws` server speaking pbbp2 frames — pings and pongs, event pushes, acks, re-pushes.
//
// What the SDK's WSClient does on the other end is in notes §1.5–§1.7: it pings at once on open and every
// PingInterval, adopts the ClientConfig a pong carries, merges `sum`/`seq` fragments by the frame's message_id, and
// acks by sending the same frame back with a `biz_rt` header and `{"code":200}` once its handler settled.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Envelope } from './events.js';
import { FRAME_METHOD, decodeFrame, encodeFrame, fromUtf8, headerValue, utf8, type Frame, type FrameType } from './pbbp2.js';

/** What the endpoint and every pong hand the client, in seconds (fractions work: the SDK multiplies by 1000). */
export interface ClientConfig {
  PingInterval: number;
  ReconnectCount: number;
  ReconnectInterval: number;
  ReconnectNonce: number;
}

export interface WsConnection {
  id: number;
  /** The path and query the client connected with: it carries `access_key` and `ticket`, which logs must never show. */
  url: string;
  deviceId: string;
  serviceId: number;
  openedAt: number;
  closedAt?: number;
  /** Set once the client's first frame arrived: from then on it surely listens, so pushes may go out. */
  ready: boolean;
  pings: number;
  pongs: number;
}

export interface AckRecord {
  /** The `message_id` header of the acked frame (the SDK acks a fragmented event once, with its last fragment). */
  frameMessageId: string;
  eventId: string;
  eventType: string;
  connectionId: number;
  /** The `code` of the ack payload: 200, or 500 when the handler threw. */
  code: number;
  /** The handler's return value, decoded from the payload's base64 `data`, when it returned one. */
  data?: unknown;
  bizRt?: string;
  headers: Record<string, string>;
  /** From the push of this frame's first fragment to the ack, in ms (monotonic clock). */
  latencyMs: number;
}

export interface PushRecord {
  frameMessageId: string;
  eventId: string;
  eventType: string;
  connectionId: number;
  /** 1 for the first push of an event, then 2, 3… for re-pushes of the same event_id. */
  attempt: number;
  pushedAt: number;
  envelope: Envelope;
  ack?: AckRecord;
}

export interface PushOptions {
  /** Split the payload into this many frames (`sum` > 1), as Feishu does for large events. */
  fragments?: number;
  /** The order in which fragments are sent, by `seq` (default 0, 1, …). */
  fragmentOrder?: number[];
  /** `type` header; `card` frames are dropped by the SDK without an ack (notes §1.6). */
  frameType?: Extract<FrameType, 'event' | 'card'>;
  /** Send on this connection instead of the next one in turn. */
  connectionId?: number;
}

export interface LongConnectionOptions {
  clientConfig: ClientConfig;
  /** Re-push an event when no `{"code":200}` ack came this long after a push; undefined: never. */
  redeliverAfterMs?: number;
  /** Re-pushes per event at most (webhook mode retries 4 times). */
  maxRedeliveries: number;
  onChange: () => void;
}

interface PendingPush {
  envelope: Envelope;
  options: PushOptions;
  attempt: number;
}

interface Live {
  info: WsConnection;
  socket: WebSocket;
}

export class FakeLongConnection {
  readonly pushes: PushRecord[] = [];
  readonly acks: AckRecord[] = [];
  /** Frames the fake could not place (an ack for no push, an unknown type), for debugging a client. */
  readonly strayFrames: Frame[] = [];
  pongsEnabled = true;
  /** What pongs carry over the endpoint's ClientConfig, for a server that changes its mind mid-connection. */
  pongOverrides: Partial<ClientConfig> = {};

  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly live = new Map<number, Live>();
  private readonly closed: WsConnection[] = [];
  private readonly tickets = new Map<string, { deviceId: string; serviceId: number }>();
  private readonly waiting: PendingPush[] = [];
  /** Event id → the timer of its next re-push; cleared by a `{"code":200}` ack. */
  private readonly redeliveryTimers = new Map<string, NodeJS.Timeout>();
  private nextConnectionId = 1;
  private nextSeqId = 1;
  private nextFrameId = 1;
  private turn = 0;

  constructor(private readonly options: LongConnectionOptions) {}

  get clientConfig(): ClientConfig {
    return this.options.clientConfig;
  }

  /** A connect URL as the endpoint hands it out: `service_id` is not first, since the SDK parses the whole URL with qs. */
  issueUrl(baseWsUrl: string): string {
    const ticket = randomBytes(12).toString('hex');
    const deviceId = String(700_000 + this.tickets.size + 1);
    const serviceId = 42;
    this.tickets.set(ticket, { deviceId, serviceId });
    return `${baseWsUrl}/ws?fpid=493&aid=552564&device_id=${deviceId}&access_key=${randomBytes(16).toString('hex')}&service_id=${serviceId}&ticket=${ticket}`;
  }

  /** Serves an upgrade for `/ws`; a URL whose ticket the endpoint never issued is refused like a bad handshake. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ticket = this.tickets.get(url.searchParams.get('ticket') ?? '');
    if (url.pathname !== '/ws' || !ticket) {
      socket.end('HTTP/1.1 403 Forbidden\r\nhandshake-status: 403\r\nhandshake-msg: invalid ticket\r\nconnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, req.url ?? '', ticket.deviceId, ticket.serviceId));
  }

  connections(): WsConnection[] {
    return [...this.closed, ...[...this.live.values()].map((l) => l.info)].sort((a, b) => a.id - b.id);
  }

  openConnections(): WsConnection[] {
    return [...this.live.values()].map((l) => l.info);
  }

  /** Pushes an event envelope; with no ready connection it waits and goes out to the next client that connects. */
  push(envelope: Envelope, options: PushOptions = {}, attempt?: number): void {
    const pending: PendingPush = { envelope, options, attempt: attempt ?? this.pushes.filter((p) => p.eventId === envelope.header.event_id).length + 1 };
    if (!this.sendPush(pending)) this.waiting.push(pending);
    this.options.onChange();
  }

  /** Events pushed while no client listened, still waiting for one. */
  waitingEvents(): number {
    return this.waiting.length;
  }

  /** Ends every connection with a TCP reset and no close frame: the SDK sees `close` and reconnects. */
  terminateAll(): void {
    for (const l of this.live.values()) l.socket.terminate();
  }

  /** Ends every connection with a close frame (code 1000 by default). */
  closeAll(code = 1000, reason = 'server closing'): void {
    for (const l of this.live.values()) l.socket.close(code, reason);
  }

  /** Stops everything at once: sockets, timers; for the fake's own close(). */
  shutdown(): void {
    for (const t of this.redeliveryTimers.values()) clearTimeout(t);
    this.redeliveryTimers.clear();
    this.terminateAll();
    this.wss.close();
  }

  // ---------- internals

  private accept(socket: WebSocket, url: string, deviceId: string, serviceId: number): void {
    const info: WsConnection = { id: this.nextConnectionId++, url, deviceId, serviceId, openedAt: Date.now(), ready: false, pings: 0, pongs: 0 };
    this.live.set(info.id, { info, socket });
    socket.on('message', (data: Buffer) => this.receive(info, socket, data));
    socket.on('close', () => {
      info.closedAt = Date.now();
      this.live.delete(info.id);
      this.closed.push(info);
      this.options.onChange();
    });
    // A client that goes away mid-write must not crash the test process.
    socket.on('error', () => undefined);
    this.options.onChange();
  }

  private receive(info: WsConnection, socket: WebSocket, data: Buffer): void {
    let frame: Frame;
    try {
      frame = decodeFrame(data);
    } catch {
      this.strayFrames.push({ SeqID: 0, LogID: 0, service: 0, method: -1, headers: [{ key: 'undecodable', value: data.toString('hex') }] });
      this.options.onChange();
      return;
    }
    if (!info.ready) {
      info.ready = true;
      this.flushWaiting();
    }
    const type = headerValue(frame, 'type');
    if (frame.method === FRAME_METHOD.control && type === 'ping' && frame.service !== info.serviceId) {
      // The SDK takes service_id from the URL; a ping without it means the URL was not parsed as the SDK does.
      this.strayFrames.push(frame);
    } else if (frame.method === FRAME_METHOD.control && type === 'ping') {
      info.pings++;
      if (this.pongsEnabled) {
        info.pongs++;
        this.send(socket, { SeqID: 0, LogID: 0, service: info.serviceId, method: FRAME_METHOD.control, headers: [{ key: 'type', value: 'pong' }], payload: utf8(JSON.stringify({ ...this.clientConfig, ...this.pongOverrides })) });
      }
    } else if (frame.method === FRAME_METHOD.data) {
      this.recordAck(info, frame);
    } else {
      this.strayFrames.push(frame);
    }
    this.options.onChange();
  }

  private recordAck(info: WsConnection, frame: Frame): void {
    const frameMessageId = headerValue(frame, 'message_id') ?? '';
    const push = this.pushes.find((p) => p.frameMessageId === frameMessageId);
    if (!push) {
      this.strayFrames.push(frame);
      return;
    }
    let body: { code?: number; data?: string } = {};
    try {
      body = JSON.parse(fromUtf8(frame.payload)) as typeof body;
    } catch {
      // An ack whose payload is not JSON is recorded with code 0: the test sees it as malformed.
    }
    let data: unknown;
    if (typeof body.data === 'string') {
      const decoded = Buffer.from(body.data, 'base64').toString('utf8');
      try {
        data = JSON.parse(decoded);
      } catch {
        data = decoded;
      }
    }
    const ack: AckRecord = {
      frameMessageId,
      eventId: push.eventId,
      eventType: push.eventType,
      connectionId: info.id,
      code: body.code ?? 0,
      ...(data !== undefined ? { data } : {}),
      ...(headerValue(frame, 'biz_rt') !== undefined ? { bizRt: headerValue(frame, 'biz_rt') } : {}),
      headers: Object.fromEntries(frame.headers.map((h) => [h.key, h.value])),
      latencyMs: performance.now() - push.pushedAt,
    };
    push.ack = ack;
    this.acks.push(ack);
    if (ack.code === 200) {
      clearTimeout(this.redeliveryTimers.get(push.eventId));
      this.redeliveryTimers.delete(push.eventId);
    }
  }

  /** Events that will be pushed again unless an ack comes first. */
  pendingRedeliveries(): number {
    return this.redeliveryTimers.size;
  }

  private flushWaiting(): void {
    const queued = this.waiting.splice(0);
    for (const p of queued) if (!this.sendPush(p)) this.waiting.push(p);
  }

  private pickConnection(preferred: number | undefined): Live | undefined {
    if (preferred !== undefined) {
      const l = this.live.get(preferred);
      return l?.info.ready ? l : undefined;
    }
    // Cluster mode: each event goes to one of the app's connections; in turn here, so a test can predict which.
    const ready = [...this.live.values()].filter((l) => l.info.ready);
    if (ready.length === 0) return undefined;
    return ready[this.turn++ % ready.length];
  }

  private sendPush(p: PendingPush): boolean {
    const target = this.pickConnection(p.options.connectionId);
    if (!target) return false;
    const frameMessageId = `fake_msg_${this.nextFrameId++}`;
    const payload = utf8(JSON.stringify(p.envelope));
    const sum = Math.max(1, Math.min(p.options.fragments ?? 1, payload.length));
    const size = Math.ceil(payload.length / sum);
    const order = p.options.fragmentOrder ?? [...Array(sum).keys()];
    const record: PushRecord = {
      frameMessageId,
      eventId: p.envelope.header.event_id,
      eventType: p.envelope.header.event_type,
      connectionId: target.info.id,
      attempt: p.attempt,
      pushedAt: performance.now(),
      envelope: p.envelope,
    };
    this.pushes.push(record);
    const traceId = randomBytes(8).toString('hex');
    for (const seq of order) {
      this.send(target.socket, {
        SeqID: this.nextSeqId++,
        LogID: 0,
        service: target.info.serviceId,
        method: FRAME_METHOD.data,
        headers: [
          { key: 'type', value: p.options.frameType ?? 'event' },
          { key: 'message_id', value: frameMessageId },
          { key: 'sum', value: String(sum) },
          { key: 'seq', value: String(seq) },
          { key: 'trace_id', value: traceId },
        ],
        payload: payload.subarray(seq * size, (seq + 1) * size),
      });
    }
    this.scheduleRedelivery(p, record);
    return true;
  }

  private scheduleRedelivery(p: PendingPush, record: PushRecord): void {
    const after = this.options.redeliverAfterMs;
    clearTimeout(this.redeliveryTimers.get(record.eventId));
    this.redeliveryTimers.delete(record.eventId);
    if (after === undefined || p.attempt > this.options.maxRedeliveries) return;
    const timer = setTimeout(() => {
      this.redeliveryTimers.delete(record.eventId);
      // A re-push goes to whichever connection is there then, not to one that may be gone.
      this.push(p.envelope, { ...p.options, connectionId: undefined }, p.attempt + 1);
    }, after);
    timer.unref();
    this.redeliveryTimers.set(record.eventId, timer);
  }

  private send(socket: WebSocket, frame: Frame): void {
    if (socket.readyState === socket.OPEN) socket.send(encodeFrame(frame));
  }
}
