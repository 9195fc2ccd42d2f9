// The shell tool: `/bin/sh -c` in the workspace, in its own process group so a stop kills everything it started.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { commandSafeText } from '../../lib/approval-text.js';
import type { Env } from '../../lib/config.js';
import { createLogger, type Logger } from '../../lib/log.js';
import { parseArguments } from './arguments.js';
import { CappedOutput } from './capped-output.js';
import { oneLine, plural } from './measure.js';
import { shellEnvironment } from './shell-environment.js';
import { forgetToolProcess, recordToolProcess } from './tool-processes.js';
import type { Tool, ToolContext, ToolOutcome } from './types.js';

export interface ShellArguments {
  command: string;
  timeout_s?: number;
}

export function parseShellArguments(args: unknown) {
  return parseArguments<ShellArguments>(args, (a) => ({
    command: a.requiredString('command', { nonEmpty: true }),
    timeout_s: a.optionalPositiveNumber('timeout_s'),
  }));
}

export interface ShellToolOptions {
  /** Where the child's environment comes from before secrets are removed; the runtime's own by default. */
  environment?: () => Env;
  /** Between SIGTERM and SIGKILL to the group. */
  killGraceMs?: number;
  /** After the shell exits, how long background processes may keep the output pipes open before reading stops. */
  drainMs?: number;
  /** Where a failure to record or forget a process group is reported. */
  logger?: Logger;
}

const SUMMARY_COMMAND_CHARS = 60;

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : Number(s.toFixed(1))} s`;
}

/** Signals the whole group; the group may already be gone, which is fine. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: every process of the group has exited already
  }
}

/** Whether any process (zombies included) is still in the group. */
function groupExists(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function createShellTool(options: ShellToolOptions = {}): Tool {
  // Passing the runtime's environment on to the child (secrets removed) is not reading configuration.
  const environment = options.environment ?? (() => process.env);
  const killGraceMs = options.killGraceMs ?? 2000;
  const drainMs = options.drainMs ?? 500;
  const logger = options.logger ?? createLogger('runtime.tools.shell', { level: 'warn' });

  /** Records a group just spawned; a failure is logged, and the command runs anyway. */
  function record(stateDir: string, pgid: number, command: string): boolean {
    try {
      return recordToolProcess(stateDir, pgid, command) !== undefined;
    } catch (err) {
      logger.warn('could not record a shell process group; it would outlive a SIGKILL of the runtime', { pgid, err });
      return false;
    }
  }

  function run(args: unknown, ctx: ToolContext): Promise<ToolOutcome> {
    const parsed = parseShellArguments(args);
    if (!parsed.ok) {
      return Promise.resolve({ ok: false, content: `bad arguments: ${parsed.problem}; call shell with {"command": "<shell command>", "timeout_s"?: <seconds>}`, summary: `shell: bad arguments (${parsed.problem})` });
    }
    const { command, timeout_s } = parsed.value;
    const shown = `$ ${oneLine(commandSafeText(command), SUMMARY_COMMAND_CHARS)}`;
    if (ctx.signal.aborted) return Promise.resolve({ ok: false, content: 'not run: the turn was already stopped', summary: `${shown} → not run` });
    const timeoutMs = Math.min(timeout_s === undefined ? Infinity : timeout_s * 1000, ctx.shellTimeoutMs);

    return new Promise((resolve) => {
      const output = new CappedOutput(ctx.outputMax);
      let stoppedBy: 'timeout' | 'abort' | undefined;
      let outputLeftOpen = false;
      let settled = false;
      let timeoutTimer: NodeJS.Timeout | undefined;
      let drainTimer: NodeJS.Timeout | undefined;

      let child: ChildProcessByStdio<null, Readable, Readable>;
      try {
        child = spawn('/bin/sh', ['-c', command], {
          cwd: ctx.workspace,
          // detached: its own process group (and session), so one signal reaches every grandchild.
          detached: true,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: shellEnvironment(environment()),
        });
      } catch (err) {
        // Thrown synchronously for arguments the OS cannot take, e.g. a NUL character in the command.
        resolve({ ok: false, content: `could not start the command: ${(err as Error).message}`, summary: `${shown} → could not start` });
        return;
      }

      // The record lets the next runtime kill this group if this one dies with SIGKILL before the group ends.
      const recorded = child.pid !== undefined && ctx.stateDir !== undefined && record(ctx.stateDir, child.pid, command);
      const forget = () => {
        if (!recorded || child.pid === undefined || ctx.stateDir === undefined) return;
        try {
          forgetToolProcess(ctx.stateDir, child.pid);
        } catch (err) {
          logger.warn('could not remove the record of a finished shell process group', { pgid: child.pid, err });
        }
      };

      const stop = (why: 'timeout' | 'abort') => {
        if (stoppedBy || settled || child.pid === undefined) return;
        stoppedBy = why;
        const pid = child.pid;
        signalGroup(pid, 'SIGTERM');
        // Not cleared on close: a process that ignores SIGTERM and no longer holds our pipes still gets SIGKILL.
        setTimeout(() => {
          signalGroup(pid, 'SIGKILL');
          forget();
        }, killGraceMs).unref();
      };
      const onAbort = () => stop('abort');
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      if (Number.isFinite(timeoutMs)) timeoutTimer = setTimeout(() => stop('timeout'), timeoutMs);

      const finish = (outcome: ToolOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timeoutTimer);
        clearTimeout(drainTimer);
        ctx.signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };

      child.stdout.on('data', (chunk: Buffer) => output.append(chunk));
      child.stderr.on('data', (chunk: Buffer) => output.append(chunk));

      child.on('error', (err) => {
        finish({ ok: false, content: `could not start /bin/sh: ${err.message}`, summary: `${shown} → could not start` });
      });
      child.on('exit', () => {
        // A background process (`server &`) inherits the pipes; without this the tool would wait for it forever.
        drainTimer = setTimeout(() => {
          outputLeftOpen = true;
          child.stdout.destroy();
          child.stderr.destroy();
        }, drainMs);
      });
      child.on('close', (code, signal) => {
        // A stopped group is forgotten once it is gone, or after its SIGKILL; one that ran its course
        // now, even if it left a background process running on purpose (that is never killed).
        if (!stoppedBy || !groupExists(child.pid)) forget();
        let status: string;
        if (stoppedBy === 'timeout') status = `killed after ${formatSeconds(timeoutMs)} timeout`;
        else if (stoppedBy === 'abort') status = 'killed: the turn was stopped';
        else if (signal) status = `killed by ${signal}`;
        else status = `exit ${code ?? '?'}`;
        const text = output.totalBytes === 0 ? '(no output)\n' : output.text();
        const notes = outputLeftOpen ? '\n(a background process still holds the output open; stopped reading when the shell exited)' : '';
        finish({
          ok: code === 0 && !stoppedBy && !signal,
          content: `${text}${text.endsWith('\n') ? '' : '\n'}${status}${notes}`,
          summary: `${shown} → ${status}, ${plural(output.lineCount, 'line')}`,
        });
      });
    });
  }

  return {
    schema: {
      name: 'shell',
      description:
        'Run a command with /bin/sh -c in the workspace directory. stdin is closed (no interactive prompts); stdout and stderr come back together, with the exit code. Long output keeps its beginning and end.',
      parameters: {
        type: 'object',
        properties: {
          command: { type: 'string', description: 'The shell command, e.g. "ls -la" or "npm test 2>&1 | tail -50".' },
          timeout_s: { type: 'number', description: 'Stop the command after this many seconds (capped by the runtime limit).' },
        },
        required: ['command'],
        additionalProperties: false,
      },
    },
    risky: true,
    readonly: false,
    describe(args) {
      const parsed = parseShellArguments(args);
      if (!parsed.ok) return `shell (bad arguments: ${parsed.problem})`;
      // Approvals show the exact command, never a shortened one; as code, every character outside ASCII escaped.
      const timeout = parsed.value.timeout_s === undefined ? '' : ` (timeout ${parsed.value.timeout_s} s)`;
      return `$ ${commandSafeText(parsed.value.command)}${timeout}`;
    },
    run,
  };
}

export const shellTool = createShellTool();
