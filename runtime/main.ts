// startRuntime: opens the store, recovers turns, starts the turn engine and the HTTP server on loopback.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { RuntimeConfig } from '../lib/config.js';
import { StateError, TetherError } from '../lib/errors.js';
import { createLogger, type Logger } from '../lib/log.js';
import { ensureRuntimeToken, ensureStateDir } from '../lib/token.js';
import { DEFAULT_STREAM_OPTIONS, EventStreams, type StreamOptions } from './events/streams.js';
import { RuntimeCounters } from './metrics.js';
import { createModelClient } from './models/client.js';
import type { ModelClient } from './models/types.js';
import { createApiServer } from './server/http.js';
import { buildRoutes } from './server/routes.js';
import { acquireRuntimeLock } from './store/lock.js';
import { DB_FILE, RuntimeStore } from './store/store.js';
import { toolsFor } from './tools/registry.js';
import { reapOrphanedToolProcesses } from './tools/tool-processes.js';
import { TurnEngine, type ToolsFor } from './turns/engine.js';

export interface RuntimeOptions {
  config: RuntimeConfig;
  logger?: Logger;
  /** The model; by default the OpenAI-compatible client for config.provider. */
  modelClient?: ModelClient;
  /** The tools offered per approval mode; by default the shell and file tools. */
  tools?: ToolsFor;
  /** SSE ping interval and slow-client cap (tests shorten them). */
  streams?: Partial<StreamOptions>;
  /** How long a client may take to send a whole request (tests shorten it). */
  requestTimeoutMs?: number;
  /** Sees the store once it is open, before anything runs (tests inject storage failures here). */
  onStoreOpened?: (store: RuntimeStore) => void;
}

export interface RunningRuntime {
  url: string;
  port: number;
  token: string;
  stateDir: string;
  stop(): Promise<void>;
}

/** How long a clean stop waits for running turns to notice their abort. */
const STOP_GRACE_MS = 5000;

export async function startRuntime(options: RuntimeOptions): Promise<RunningRuntime> {
  const { config } = options;
  const logger = options.logger ?? createLogger('runtime', { level: config.logLevel });
  ensureStateDir(config.stateDir);
  const token = ensureRuntimeToken(config.stateDir, config.token);
  const lock = acquireRuntimeLock(config.stateDir);
  let store: RuntimeStore;
  try {
    store = RuntimeStore.open(join(config.stateDir, DB_FILE), { model: config.model, approval: config.approval }, logger.child('store'));
  } catch (err) {
    lock.release();
    throw err;
  }
  options.onStoreOpened?.(store);
  const counters = new RuntimeCounters();
  const ownClient = options.modelClient ? undefined : createModelClient(config, logger.child('model'));
  const model = options.modelClient ?? ownClient!;
  let engine: TurnEngine;
  try {
    engine = new TurnEngine({ store, config, model, toolsFor: options.tools ?? toolsFor, counters, logger: logger.child('turns') });
  } catch (err) {
    store.close();
    lock.release();
    throw err;
  }
  const streams = new EventStreams(store, { ...DEFAULT_STREAM_OPTIONS, ...options.streams }, logger.child('events'));
  const server = createApiServer({ routes: buildRoutes({ store, engine, streams, counters }), token, allowedOrigins: config.allowedOrigins, logger: logger.child('http'), requestTimeoutMs: options.requestTimeoutMs });

  // Recovery before the first request can arrive: a turn posted then must queue behind the turns the
  // last run left, never overtake them. The lock makes this the only runtime on the state dir, and
  // recovery only marks running turns interrupted and rebuilds the queue in memory, so a start that
  // then fails to listen (busy port) leaves the store as the next start would have found it anyway.
  // Tool processes a killed runtime left behind go first: their turns are about to be marked interrupted.
  try {
    await reapOrphanedToolProcesses(config.stateDir, logger.child('tools'));
    engine.recover();
  } catch (err) {
    store.close();
    lock.release();
    await ownClient?.close();
    throw err;
  }

  try {
    server.listen(config.port, config.host);
    await once(server, 'listening');
  } catch (err) {
    store.close();
    lock.release();
    await ownClient?.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new TetherError('port_in_use', `port ${config.port} on ${config.host} is in use`, 'stop the other process or set TETHER_PORT');
    if (code === 'EACCES') throw new TetherError('port_denied', `port ${config.port} on ${config.host} cannot be opened by this user`, 'use a port above 1023 in TETHER_PORT');
    throw new StateError('listen_failed', `cannot listen on ${config.host}:${config.port} (${(err as Error).message})`, 'check TETHER_HOST and TETHER_PORT');
  }
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;

  engine.start();

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      server.close();
      streams.closeAll();
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([engine.stop(), new Promise<void>((r) => (grace = setTimeout(r, STOP_GRACE_MS)))]);
      clearTimeout(grace);
      server.closeAllConnections();
      store.close();
      lock.release();
      await ownClient?.close();
      logger.info('runtime stopped');
    })());

  return { url, port, token, stateDir: config.stateDir, stop };
}
