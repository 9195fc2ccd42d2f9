// Runs the `tether` CLI from source (node --import tsx cli/main.ts) for tests, never from dist/.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** tsx by absolute URL, so the CLI runs from source whatever the child's working directory (.env tests). */
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const entry = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

export interface CliOptions {
  /** The child's whole environment (PATH and HOME are added from this process when missing). */
  env?: Record<string, string>;
  cwd?: string;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Kill the child (SIGKILL) after this long; the result then has code null. Default 20 s. */
  timeoutMs?: number;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function childEnv(env: Record<string, string> | undefined): NodeJS.ProcessEnv {
  // A clean environment: the developer's own TETHER_* or bot tokens never leak into a test.
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env };
}

/** Starts `tether <args>` and leaves it running; the caller stops it. */
export function spawnCli(args: string[], options: Omit<CliOptions, 'input' | 'timeoutMs'> = {}): ChildProcess {
  return spawn(process.execPath, ['--import', tsxLoader, entry, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: childEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs `tether <args>` to the end and collects its output. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  if (options.input !== undefined) child.stdin!.end(options.input);
  else child.stdin!.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

interface LineLog {
  lines: string[];
  waiters: Set<() => void>;
  exited: boolean;
}

const logs = new WeakMap<ChildProcess, LineLog>();

/** Every stdout line of the child from the first call on, so later waits also see lines that came together. */
function lineLog(child: ChildProcess): LineLog {
  let log = logs.get(child);
  if (log) return log;
  const created: LineLog = { lines: [], waiters: new Set(), exited: false };
  log = created;
  logs.set(child, created);
  let buffer = '';
  const notify = () => {
    for (const w of [...created.waiters]) w();
  };
  child.stdout?.on('data', (d: Buffer | string) => {
    buffer += d.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      created.lines.push(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
    }
    notify();
  });
  child.on('exit', () => {
    created.exited = true;
    notify();
  });
  return created;
}

/** Resolves with the first stdout line (JSON log lines included) that matches, or rejects when the child exits first. */
export function waitForLine(child: ChildProcess, match: RegExp | ((line: string) => boolean), timeoutMs = 15_000): Promise<string> {
  const test = typeof match === 'function' ? match : (l: string) => match.test(l);
  const log = lineLog(child);
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = log.lines.find(test);
      if (found !== undefined) {
        cleanup();
        resolve(found);
      } else if (log.exited) {
        cleanup();
        reject(new Error(`the process exited (${child.exitCode}) before printing the expected line; it printed:\n${log.lines.join('\n')}`));
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no matching line within ${timeoutMs} ms; seen:\n${log.lines.join('\n')}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      log.waiters.delete(check);
    };
    log.waiters.add(check);
    check();
  });
}

/**
 * Spawns `tether runtime` and hands `onCleanup` a SIGKILL for it (a no-op once it has exited),
 * for tests that crash and restart the runtime as a real process.
 */
export function spawnRuntime(env: Record<string, string>, cwd: string, onCleanup: (fn: () => void) => void): ChildProcess {
  const child = spawnCli(['runtime'], { env, cwd });
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

/** spawnRuntime, resolved with its url once it logged that it listens. */
export async function startRuntimeProcess(env: Record<string, string>, cwd: string, onCleanup: (fn: () => void) => void): Promise<{ child: ChildProcess; url: string }> {
  const child = spawnRuntime(env, cwd, onCleanup);
  const line = await waitForLine(child, /"msg":"runtime listening"/);
  return { child, url: (JSON.parse(line) as { url: string }).url };
}
