// The long connection, supervised: one WSClient at a time, restarted with capped backoff when it fails, errors or goes silent.
import { describeError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { lark, sdkLogger } from './sdk.js';

export interface ConnectionTiming {
  /**
   * The SDK's own watchdog (wsConfig.pingTimeout), seconds: the socket is cut when no frame follows
   * a ping this long. It only works below the server's PingInterval (120 s; notes §1.5); 0 disables it.
   */
  pingTimeoutS: number;
  /** Ours: nothing at all (no pong, no event, no reconnect) for this long and the client is replaced. */
  silenceMs: number;
  /** How often the supervisor looks at the client's state. */
  tickMs: number;
  restartMinMs: number;
  restartMaxMs: number;
  /** The websocket handshake may take this long (the SDK's default is forever). */
  handshakeTimeoutMs: number;
}

export const DEFAULT_CONNECTION_TIMING: ConnectionTiming = {
  pingTimeoutS: 30,
  // Two of the server's pings (120 s apart) and their pongs missed, plus slack.
  silenceMs: 300_000,
  tickMs: 5_000,
  restartMinMs: 1_000,
  restartMaxMs: 60_000,
  handshakeTimeoutMs: 10_000,
};

/** SDK log lines that prove the server is there: a pong, an event frame, a (re)connect. */
const SIGNS_OF_LIFE = ['receive pong', 'receive message', 'ws client ready', 'reconnect success', 'ws connect success'];
/** Of those, the ones that prove the connection works, not only that it opened: they end a run of failures. */
const PROOF_OF_WORK = ['receive pong', 'receive message'];

export interface ConnectionHealth {
  state: 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'idle' | 'stopped';
  /** Times our supervisor replaced the client (errors, failed state, silence). */
  restarts: number;
  lastRestartReason?: string;
  /** Milliseconds since the last sign of life. */
  silentForMs?: number;
}

export interface FeishuConnectionOptions {
  appId: string;
  appSecret: string;
  domain: string;
  dispatcher: lark.EventDispatcher;
  logger: Logger;
  timing?: Partial<ConnectionTiming>;
}

export class FeishuConnection {
  private readonly timing: ConnectionTiming;
  private readonly log: Logger;
  private client: lark.WSClient | undefined;
  private lastAlive = Date.now();
  private restarts = 0;
  private failuresInARow = 0;
  private lastRestartReason: string | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly o: FeishuConnectionOptions) {
    this.timing = { ...DEFAULT_CONNECTION_TIMING, ...o.timing };
    this.log = o.logger.child('ws');
  }

  /** Opens the first connection; receiving starts when the SDK says it is ready (health says so). */
  start(): void {
    this.open();
    this.ticker = setInterval(() => this.check(), this.timing.tickMs);
    this.ticker.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.ticker);
    clearTimeout(this.pending);
    this.client?.close({ force: true });
    this.client = undefined;
  }

  health(): ConnectionHealth {
    const state = this.stopped ? 'stopped' : this.client ? this.client.getConnectionStatus().state : 'reconnecting';
    return { state, restarts: this.restarts, ...(this.lastRestartReason ? { lastRestartReason: this.lastRestartReason } : {}), silentForMs: Date.now() - this.lastAlive };
  }

  /** A sign of life in the SDK's log line; a socket that opens and then says nothing is not a recovery, so only a pong or an event ends the backoff. */
  private alive(line: string): void {
    this.lastAlive = Date.now();
    if (PROOF_OF_WORK.some((s) => line.includes(s))) this.failuresInARow = 0;
  }

  private open(): void {
    if (this.stopped) return;
    this.lastAlive = Date.now();
    const client = new lark.WSClient({
      appId: this.o.appId,
      appSecret: this.o.appSecret,
      domain: this.o.domain,
      autoReconnect: true,
      handshakeTimeoutMs: this.timing.handshakeTimeoutMs,
      ...(this.timing.pingTimeoutS > 0 ? { wsConfig: { pingTimeout: this.timing.pingTimeoutS } } : {}),
      // Trace, so that pongs reach onLine below; what is written passes our logger's level and redaction.
      loggerLevel: lark.LoggerLevel.trace,
      logger: sdkLogger(this.log, { onLine: (line) => SIGNS_OF_LIFE.some((s) => line.includes(s)) && this.alive(line) }),
      onReady: () => {
        this.lastAlive = Date.now();
        this.log.info('long connection ready');
      },
      onReconnected: () => {
        this.lastAlive = Date.now();
        this.log.info('long connection back');
      },
      onReconnecting: () => this.log.info('long connection lost; the SDK reconnects'),
      // A fatal endpoint code (anything but 1000040343) or exhausted retries: the SDK gives up for good.
      onError: (err) => this.restart(`the SDK gave up: ${describeError(err)}`),
    });
    this.client = client;
    client.start({ eventDispatcher: this.o.dispatcher }).catch((err: unknown) => this.restart(`start failed: ${describeError(err)}`));
  }

  private check(): void {
    if (this.stopped || !this.client) return;
    const { state } = this.client.getConnectionStatus();
    if (state === 'failed') return this.restart('the client is in the failed state');
    const silent = Date.now() - this.lastAlive;
    if (silent > this.timing.silenceMs) this.restart(`nothing from Feishu for ${Math.round(silent / 1000)} s, not even a pong`);
  }

  /** Closes the client and opens a new one after a backoff that doubles with each failure in a row, up to the cap. */
  private restart(reason: string): void {
    if (this.stopped || this.pending) return;
    this.client?.close({ force: true });
    this.client = undefined;
    this.restarts++;
    this.lastRestartReason = reason;
    const delay = Math.min(this.timing.restartMaxMs, this.timing.restartMinMs * 2 ** Math.min(this.failuresInARow, 16));
    this.failuresInARow++;
    this.log.warn('restarting the long connection', { reason, in_ms: delay });
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.open();
    }, delay);
  }
}
