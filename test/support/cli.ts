// Runs the `tether` CLI from source (node --import tsx cli/main.ts) for tests, never from dist/.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

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
  return spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../cli/main.ts', import.meta.url)), ...args], {
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

/** Resolves with the first stdout line (JSON log lines included) that matches, or rejects when the child exits first. */
export function waitForLine(child: ChildProcess, match: RegExp | ((line: string) => boolean), timeoutMs = 15_000): Promise<string> {
  const test = typeof match === 'function' ? match : (l: string) => match.test(l);
  return new Promise((resolve, reject) => {
    let buffer = '';
    let seen = '';
    const onData = (d: Buffer | string) => {
      buffer += d.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        seen += line + '\n';
        if (test(line)) {
          cleanup();
          resolve(line);
          return;
        }
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`the process exited (${code}) before printing the expected line; it printed:\n${seen}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no matching line within ${timeoutMs} ms; seen:\n${seen}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.on('exit', onExit);
  });
}
