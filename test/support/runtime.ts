// Starts a real runtime for a test: temp state dir and workspace, config via loadRuntimeConfig, a fake model.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { loadRuntimeConfig } from '../../lib/config.js';
import { createLogger, silentLogger, type Logger } from '../../lib/log.js';
import { startRuntime, type RuntimeOptions } from '../../runtime/main.js';
import { startFakeModel, type FakeModel } from '../fakes/model-server.js';
import { openEventStream, type SseStream } from './sse.js';

export interface ApiResponse {
  status: number;
  // Tests read whatever the runtime answered.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Headers;
}

export interface TestRuntime {
  url: string;
  port: number;
  token: string;
  stateDir: string;
  workspace: string;
  /** The fake model the runtime talks to (started here unless TETHER_BASE_URL was given). */
  model: FakeModel;
  /** The environment the runtime was configured from; reuse it to restart on the same state. */
  env: Record<string, string>;
  /** One request with the bearer token; JSON body in, parsed JSON (or text) out. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  /** Opens an SSE stream on `path` (default: every event from the start) with the token. */
  events(path?: string, headers?: Record<string, string>): Promise<SseStream>;
  /** Creates a thread and returns it (fails the test on anything but 201). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  newThread(body?: Record<string, unknown>): Promise<any>;
  /** Stops the runtime, keeping state dir and fake model, so a test can start it again. */
  stopRuntime(): Promise<void>;
  /** Starts it again on the same state dir (after stopRuntime); url and port may change. */
  restart(): Promise<void>;
  /** Stops everything and removes the temp dirs. */
  stop(): Promise<void>;
}

export interface TestRuntimeOptions extends Omit<Partial<RuntimeOptions>, 'config'> {
  /** Print the runtime's log lines (debugging a test). */
  verbose?: boolean;
}

export async function apiRequest(url: string, token: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
  const h: Record<string, string> = { ...headers };
  if (token !== undefined && h.authorization === undefined) h.authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === 'string' ? body : JSON.stringify(body);
    h['content-type'] ??= 'application/json';
  }
  const res = await fetch(url + path, { method, headers: h, body: payload });
  const text = await res.text();
  let parsed: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
  return { status: res.status, body: parsed, headers: res.headers };
}

export async function startTestRuntime(env: Record<string, string> = {}, options: TestRuntimeOptions = {}): Promise<TestRuntime> {
  const root = mkdtempSync(join(tmpdir(), 'tether-rt-'));
  const stateDir = join(root, 'state');
  const workspace = join(root, 'workspace');
  mkdirSync(workspace);
  const model = env.TETHER_BASE_URL ? undefined : await startFakeModel();
  const fullEnv: Record<string, string> = {
    TETHER_PORT: '0',
    TETHER_PROVIDER: 'vllm',
    TETHER_MODEL: 'fake',
    TETHER_STATE_DIR: stateDir,
    TETHER_WORKSPACE: workspace,
    HOME: root,
    ...(model ? { TETHER_BASE_URL: model.url } : {}),
    ...env,
  };
  const logger: Logger = options.verbose ? createLogger('runtime', { level: 'debug', write: (l) => process.stderr.write(l + '\n') }) : silentLogger;
  const { verbose: _verbose, ...runtimeOptions } = options;
  const boot = () => startRuntime({ ...runtimeOptions, config: loadRuntimeConfig(fullEnv, workspace), logger });
  let running = await boot();
  let stopped = false;

  const t: TestRuntime = {
    url: running.url,
    port: running.port,
    token: running.token,
    stateDir,
    workspace,
    model: model ?? (undefined as unknown as FakeModel),
    env: fullEnv,
    api: (method, path, body, headers) => apiRequest(t.url, t.token, method, path, body, headers),
    events: (path = '/v1/events?after=0', headers = {}) => openEventStream(t.url + path, { authorization: `Bearer ${t.token}`, ...headers }),
    async newThread(body = {}) {
      const res = await t.api('POST', '/v1/threads', body);
      if (res.status !== 201) throw new Error(`POST /v1/threads answered ${res.status}: ${JSON.stringify(res.body)}`);
      return res.body;
    },
    async stopRuntime() {
      if (!stopped) await running.stop();
      stopped = true;
    },
    async restart() {
      if (!stopped) await running.stop();
      running = await boot();
      stopped = false;
      t.url = running.url;
      t.port = running.port;
      t.token = running.token;
    },
    async stop() {
      await t.stopRuntime();
      await model?.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return t;
}

/**
 * For a test file whose tests each start their own runtime: `runtime(env)` starts one that is
 * stopped after the test; `afterTest(fn)` adds another cleanup. Cleanups run newest first.
 */
export function runtimesPerTest(): { runtime(env?: Record<string, string>): Promise<TestRuntime>; afterTest(fn: () => Promise<void>): void } {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });
  return {
    async runtime(env = {}) {
      const rt = await startTestRuntime(env);
      cleanups.push(() => rt.stop());
      return rt;
    },
    afterTest: (fn) => void cleanups.push(fn),
  };
}
