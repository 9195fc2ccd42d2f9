// The processes a benchmark measures: the compiled runtime (node dist/cli/main.js runtime) and the instant model, each its own process.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMPILED_CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');

export interface BenchChild {
  readonly pid: number;
  /** The last lines it printed, for saying why it failed. */
  tail(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// A benchmark that throws must not leave a runtime listening behind it.
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

function watch(child: ChildProcess, name: string): BenchChild & { exited(): boolean; waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> } {
  running.add(child);
  let output = '';
  const lineWaiters = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-64_000);
    for (const w of lineWaiters) w();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => {
    running.delete(child);
    for (const w of lineWaiters) w();
  });
  return {
    pid: child.pid ?? -1,
    tail: () => output.split('\n').slice(-15).join('\n'),
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
    waitForLine(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(output);
          if (m) return finish(() => resolve(m));
          if (child.exitCode !== null || child.signalCode !== null) finish(() => reject(new Error(`${name} exited before printing ${pattern}:\n${output.slice(-2000)}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${output.slice(-2000)}`))), timeoutMs);
        const finish = (then: () => void) => {
          clearTimeout(timer);
          lineWaiters.delete(check);
          then();
        };
        lineWaiters.add(check);
        check();
      });
    },
  };
}

export interface InstantModel extends BenchChild {
  url: string;
}

export async function startInstantModel(): Promise<InstantModel> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/instant-model.ts'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const watched = watch(child, 'the instant model');
  const m = await watched.waitForLine(/listening on (http:\/\/\S+)/, 15_000);
  return { ...watched, url: m[1]! };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A fresh directory under the OS temp dir (a disk, not tmpfs, on the machine the figures come from). */
export function freshDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `tether-bench-${label}-`));
}

export interface RuntimeUnderTest extends BenchChild {
  url: string;
  token: string;
  stateDir: string;
  /** Milliseconds from spawn to the first 200 from /health. */
  startToHealthyMs: number;
  /** Resident memory now, from /proc/<pid>/status. */
  rssMb(): number;
}

export interface RuntimeOptions {
  modelUrl: string;
  /** Reuse a state dir (seeded beforehand); a fresh one otherwise, removed at stop. */
  stateDir?: string;
  env?: Record<string, string>;
}

export function assertCompiled(): void {
  if (!existsSync(COMPILED_CLI)) throw new Error(`${COMPILED_CLI} is missing: run \`npm run build\` first (npm run bench does)`);
}

/** Starts `node dist/cli/main.js <args>` with exactly `env` (plus PATH and HOME), output collected. */
export function spawnCompiledCli(args: string[], env: Record<string, string>, cwd: string): ReturnType<typeof watch> {
  assertCompiled();
  const child = spawn(process.execPath, [COMPILED_CLI, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? cwd, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return watch(child, `tether ${args.join(' ')}`);
}

export async function startRuntime(options: RuntimeOptions): Promise<RuntimeUnderTest> {
  assertCompiled();
  const ownsState = options.stateDir === undefined;
  const stateDir = options.stateDir ?? freshDir('state');
  const workspace = join(stateDir, 'workspace');
  mkdirSync(workspace, { recursive: true });
  const port = await freePort();
  const token = randomBytes(24).toString('base64url');
  const env: Record<string, string> = {
    TETHER_STATE_DIR: stateDir,
    TETHER_WORKSPACE: workspace,
    TETHER_PORT: String(port),
    TETHER_TOKEN: token,
    TETHER_PROVIDER: 'vllm',
    TETHER_MODEL: 'instant',
    TETHER_BASE_URL: options.modelUrl,
    TETHER_APPROVAL: 'auto',
    ...options.env,
  };
  const url = `http://127.0.0.1:${port}`;
  const spawnedAt = performance.now();
  const watched = spawnCompiledCli(['runtime'], env, stateDir);
  let startToHealthyMs: number;
  try {
    startToHealthyMs = (await waitForHealthy(url, 15_000, () => watched.exited())) - spawnedAt;
  } catch (err) {
    await watched.stop();
    if (ownsState) rmSync(stateDir, { recursive: true, force: true });
    throw new Error(`${(err as Error).message}\n${watched.tail()}`);
  }
  return {
    ...watched,
    url,
    token,
    stateDir,
    startToHealthyMs,
    rssMb: () => readRssMb(watched.pid),
    async stop() {
      await watched.stop();
      if (ownsState) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Polls /health every 2 ms; resolves with performance.now() at the first 200. */
export async function waitForHealthy(url: string, timeoutMs: number, gaveUp: () => boolean): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (gaveUp()) throw new Error('the runtime exited before it became healthy');
    try {
      const res = await fetch(`${url}/health`);
      await res.arrayBuffer();
      if (res.status === 200) return performance.now();
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`the runtime at ${url} was not healthy within ${timeoutMs} ms`);
}

export function readRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}
