// The shell tool: output and exit codes, timeouts and aborts that kill the whole process group, output caps, a clean environment.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createShellTool, shellTool } from '../../../runtime/tools/shell.js';
import { contextFor, makeWorkspace, processIsGone, waitUntil, type TempWorkspace } from './workspace.js';

let t: TempWorkspace;
const strays: number[] = [];
beforeEach(() => {
  t = makeWorkspace();
});
afterEach(() => {
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone, as it should be
    }
  }
  t.remove();
});

function pidIn(content: string): number {
  const m = /pid=(\d+)/.exec(content);
  if (!m?.[1]) throw new Error(`no pid in ${JSON.stringify(content)}`);
  const pid = Number(m[1]);
  strays.push(pid);
  return pid;
}

describe('shell', () => {
  it('runs in the workspace and reports output, exit 0 and a one-line summary', async () => {
    const outcome = await shellTool.run({ command: 'pwd; echo hello' }, contextFor(t.workspace));
    expect(outcome).toEqual({ ok: true, content: `${t.workspace}\nhello\nexit 0`, summary: '$ pwd; echo hello → exit 0, 2 lines' });
  });

  it('reports a failing exit code as not ok, with stdout and stderr together', async () => {
    const outcome = await shellTool.run({ command: 'echo out; echo err >&2; exit 2' }, contextFor(t.workspace));
    expect(outcome.ok).toBe(false);
    expect(outcome.content).toMatch(/out\n/);
    expect(outcome.content).toMatch(/err\n/);
    expect(outcome.content.endsWith('\nexit 2')).toBe(true);
    expect(outcome.summary).toBe('$ echo out; echo err >&2; exit 2 → exit 2, 2 lines');
  });

  it('says so when there is no output', async () => {
    expect((await shellTool.run({ command: 'true' }, contextFor(t.workspace))).content).toBe('(no output)\nexit 0');
  });

  it('closes stdin, so a command reading it ends instead of waiting', async () => {
    const outcome = await shellTool.run({ command: 'cat; echo done' }, contextFor(t.workspace));
    expect(outcome.content).toBe('done\nexit 0');
  });

  it('reports a command killed by a signal it did not get from us', async () => {
    const outcome = await shellTool.run({ command: 'kill -9 $$' }, contextFor(t.workspace));
    expect(outcome.ok).toBe(false);
    expect(outcome.content).toMatch(/killed by SIGKILL$/);
  });

  it('kills the whole group on timeout, grandchildren included', async () => {
    const outcome = await shellTool.run({ command: 'sleep 30 & echo pid=$!; wait', timeout_s: 0.3 }, contextFor(t.workspace));
    expect(outcome.ok).toBe(false);
    expect(outcome.content).toMatch(/killed after 0\.3 s timeout$/);
    expect(outcome.summary).toMatch(/→ killed after 0\.3 s timeout, 1 line$/);
    const grandchild = pidIn(outcome.content);
    await waitUntil(() => processIsGone(grandchild), `grandchild ${grandchild} is gone`);
  });

  it('never waits longer than the runtime limit, whatever timeout_s asks', async () => {
    const outcome = await shellTool.run({ command: 'sleep 30', timeout_s: 3600 }, contextFor(t.workspace, { shellTimeoutMs: 200 }));
    expect(outcome.content).toMatch(/killed after 0\.2 s timeout$/);
  });

  it('sends SIGKILL after the grace to processes that ignore SIGTERM', async () => {
    const tool = createShellTool({ killGraceMs: 100 });
    const outcome = await tool.run({ command: "trap '' TERM; sleep 30 & echo pid=$!; wait; wait", timeout_s: 0.3 }, contextFor(t.workspace));
    expect(outcome.content).toMatch(/killed after 0\.3 s timeout$/);
    const grandchild = pidIn(outcome.content);
    await waitUntil(() => processIsGone(grandchild), `TERM-ignoring grandchild ${grandchild} is gone`);
  });

  it('stops the command and its children when the signal aborts', async () => {
    const controller = new AbortController();
    const running = shellTool.run({ command: 'sleep 30 & echo $! > bg.pid; wait' }, contextFor(t.workspace, { signal: controller.signal }));
    const pidFile = join(t.workspace, 'bg.pid');
    await waitUntil(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 'the command wrote its pid');
    const grandchild = pidIn(`pid=${readFileSync(pidFile, 'utf8')}`);
    controller.abort();
    const outcome = await running;
    expect(outcome.ok).toBe(false);
    expect(outcome.content).toMatch(/killed: the turn was stopped$/);
    await waitUntil(() => processIsGone(grandchild), `grandchild ${grandchild} is gone`);
  });

  it('does not start when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const outcome = await shellTool.run({ command: 'touch ran' }, contextFor(t.workspace, { signal: controller.signal }));
    expect(outcome.ok).toBe(false);
    expect(existsSync(join(t.workspace, 'ran'))).toBe(false);
  });

  it('returns when the shell exits even if a background process keeps the output open', async () => {
    const tool = createShellTool({ drainMs: 100 });
    const outcome = await tool.run({ command: 'sleep 30 & echo pid=$!' }, contextFor(t.workspace));
    pidIn(outcome.content);
    expect(outcome.ok).toBe(true);
    expect(outcome.content).toMatch(/exit 0\n\(a background process still holds the output open/);
  });

  it('keeps the head and the tail of long output and says how much was cut', async () => {
    const outcome = await shellTool.run({ command: 'echo FIRST; i=0; while [ $i -lt 5000 ]; do echo "line $i"; i=$((i+1)); done; echo LAST' }, contextFor(t.workspace, { outputMax: 2048 }));
    expect(outcome.ok).toBe(true);
    expect(outcome.content.startsWith('FIRST\nline 0\n')).toBe(true);
    expect(outcome.content).toMatch(/line 4999\nLAST\nexit 0$/);
    const cut = /\[… .* \((\d+) bytes\) cut from the middle of .* of output …\]/.exec(outcome.content);
    expect(cut).not.toBeNull();
    const total = 'FIRST\n'.length + 'LAST\n'.length + Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join('').length;
    const kept = Buffer.byteLength(outcome.content.replace(cut?.[0] ?? '', '').replace(/exit 0$/, '')) - 2;
    expect(Number(cut?.[1])).toBe(total - kept);
    expect(outcome.summary).toBe(`$ ${'echo FIRST; i=0; while [ $i -lt 5000 ]; do echo "line $i"; i=$((i+1)); done; echo LAST'.slice(0, 59)}… → exit 0, 5002 lines`);
  });

  it('never cuts a UTF-8 character when capping output', async () => {
    const outcome = await shellTool.run({ command: "i=0; while [ $i -lt 2000 ]; do printf 'é漢🙂'; i=$((i+1)); done" }, contextFor(t.workspace, { outputMax: 1025 }));
    expect(outcome.content).not.toContain('\uFFFD');
    expect(outcome.content).toMatch(/^(é漢🙂)*(é|é漢)?\n\[… /u);
  });

  it('hides Tether secrets from the command environment and keeps the rest', async () => {
    const tool = createShellTool({
      environment: () => ({ PATH: process.env.PATH, KEEP_ME: 'visible', TETHER_TOKEN: 'tok-secret-1', TELEGRAM_BOT_TOKEN: 'tg-secret-2', FEISHU_APP_SECRET: 'fs-secret-3', OPENAI_API_KEY: 'sk-secret-4', SOMENEW_API_KEY: 'new-secret-5', SLACK_APP_TOKEN: 'xapp-secret-6' }),
    });
    const outcome = await tool.run({ command: 'env' }, contextFor(t.workspace));
    expect(outcome.content).toContain('KEEP_ME=visible');
    expect(outcome.content).not.toMatch(/secret-\d/);
  });

  it('hides secrets of the runtime process environment by default', async () => {
    process.env.TETHER_TOKEN = 'runtime-token-secret';
    process.env.DEEPSEEK_API_KEY = 'deepseek-key-secret';
    try {
      const outcome = await shellTool.run({ command: 'env' }, contextFor(t.workspace));
      expect(outcome.content).toMatch(/^PATH=/m);
      expect(outcome.content).not.toMatch(/TETHER_TOKEN|DEEPSEEK_API_KEY|-secret/);
    } finally {
      delete process.env.TETHER_TOKEN;
      delete process.env.DEEPSEEK_API_KEY;
    }
  });

  it('describes the exact command for approvals and bad arguments without throwing', () => {
    const long = `echo ${'x'.repeat(300)}`;
    expect(shellTool.describe({ command: long })).toBe(`$ ${long}`);
    expect(shellTool.describe('{"command":"ls -la","timeout_s":5}')).toBe('$ ls -la (timeout 5 s)');
    expect(shellTool.describe({ command: 1 })).toBe('shell (bad arguments: command must be a string)');
    expect(shellTool.describe({})).toBe('shell (bad arguments: command is missing)');
    expect(shellTool.describe('{not json')).toBe('shell (bad arguments: arguments are not valid JSON)');
    expect(shellTool.describe({ command: 'ls', timeout_s: -1 })).toBe('shell (bad arguments: timeout_s must be a positive number)');
  });

  it('answers a command the OS cannot take with an outcome, not a throw', async () => {
    const outcome = await shellTool.run({ command: 'echo a\0b' }, contextFor(t.workspace));
    expect(outcome).toMatchObject({ ok: false, content: expect.stringMatching(/^could not start the command/) });
  });

  it('answers bad arguments with an outcome the model can correct', async () => {
    const outcome = await shellTool.run({ cmd: 'ls' }, contextFor(t.workspace));
    expect(outcome.ok).toBe(false);
    expect(outcome.content).toMatch(/^bad arguments: command is missing; call shell with \{"command"/);
  });
});
