// `tether runtime` and `tether up` as spawned processes: start-up failures in one line, clean stop, kill -9 recovery.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeModel } from '../../fakes/model-server.js';
import { startFakeTelegram } from '../../fakes/telegram-bot-api.js';
import { runCli, spawnCli, startRuntimeProcess, waitForLine } from '../../support/cli.js';
import { apiRequest } from '../../support/runtime.js';
import { openEventStream } from '../../support/sse.js';
import { waitUntil } from '../../support/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'tether-cli-'));
  mkdirSync(join(root, 'ws'));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

function baseEnv(root: string, model?: FakeModel): Record<string, string> {
  return {
    HOME: root,
    TETHER_STATE_DIR: join(root, 'state'),
    TETHER_WORKSPACE: join(root, 'ws'),
    TETHER_PORT: '0',
    TETHER_PROVIDER: 'vllm',
    TETHER_MODEL: 'fake',
    TETHER_BASE_URL: model?.url ?? 'http://127.0.0.1:9/v1',
  };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((r) => child.once('exit', (code) => r(code)));
}

describe('tether runtime', () => {
  it('--help prints usage and exits 0', async () => {
    const r = await runCli(['runtime', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tether runtime/);
  });

  it('a bad variable stops it with one line naming the variable', async () => {
    const root = tempRoot();
    const r = await runCli(['runtime'], { env: { ...baseEnv(root), TETHER_WORKERS: 'many' }, cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tether runtime: TETHER_WORKERS is "many", expected a whole number/)]);
  });

  it('a busy port stops it with one line saying what to do', async () => {
    const root = tempRoot();
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const port = (blocker.address() as { port: number }).port;
    const r = await runCli(['runtime'], { env: { ...baseEnv(root), TETHER_PORT: String(port) }, cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`tether runtime: port ${port} on 127.0.0.1 is in use: stop the other process or set TETHER_PORT`);
  });

  it('a state dir that cannot be created stops it with one line', async () => {
    const root = tempRoot();
    writeFileSync(join(root, 'a-file'), 'not a directory');
    const r = await runCli(['runtime'], { env: { ...baseEnv(root), TETHER_STATE_DIR: join(root, 'a-file', 'state') }, cwd: root });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tether runtime: cannot create TETHER_STATE_DIR .*a-file\/state \(ENOTDIR\): /);
  });

  it('a state dir under /proc stops it with one line instead of spinning', async () => {
    const root = tempRoot();
    const r = await runCli(['runtime'], { env: { ...baseEnv(root), TETHER_STATE_DIR: '/proc/tether-nope/state' }, cwd: root, timeoutMs: 10_000 });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tether runtime: cannot create TETHER_STATE_DIR \/proc\/tether-nope\/state \(/);
  });

  it('logs where the token is (never the token) and stops cleanly on SIGTERM', async () => {
    const root = tempRoot();
    const model = await startFakeModel();
    cleanups.push(() => model.close());
    const env = baseEnv(root, model);
    const child = spawnCli(['runtime'], { env, cwd: root });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const line = await waitForLine(child, /"msg":"runtime listening"/);
    const token = readFileSync(join(root, 'state', 'runtime.token'), 'utf8').trim();
    expect(JSON.parse(line)).toMatchObject({ token_file: join(root, 'state', 'runtime.token') });
    const { url } = JSON.parse(line) as { url: string };
    expect((await apiRequest(url, token, 'GET', '/v1/threads')).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(out).toMatch(/"msg":"runtime stopped"/);
    expect(out).not.toContain(token);
  });

  it('after kill -9, the running turn is interrupted and the queued one completes', async () => {
    const root = tempRoot();
    const model = await startFakeModel();
    cleanups.push(() => model.close());
    const env = { ...baseEnv(root, model), TETHER_WORKERS: '1' };
    const first = await startRuntimeProcess(env, root, (fn) => cleanups.push(fn));
    const token = readFileSync(join(root, 'state', 'runtime.token'), 'utf8').trim();
    const api = (url: string, method: string, path: string, body?: unknown) => apiRequest(url, token, method, path, body);
    const a = (await api(first.url, 'POST', '/v1/threads', {})).body;
    const b = (await api(first.url, 'POST', '/v1/threads', {})).body;
    model.enqueue({ hang: true });
    const running = (await api(first.url, 'POST', `/v1/threads/${a.id}/turns`, { input: 'cut short' })).body;
    await model.waitForRequests(1);
    const queued = (await api(first.url, 'POST', `/v1/threads/${b.id}/turns`, { input: 'after the crash' })).body;
    const before = await api(first.url, 'GET', `/v1/threads/${b.id}/turns/${queued.id}`);
    expect(before.body.status).toBe('queued');
    first.child.kill('SIGKILL');
    await exited(first.child);

    const second = await startRuntimeProcess(env, root, (fn) => cleanups.push(fn));
    const stream = await openEventStream(`${second.url}/v1/events?after=0`, { authorization: `Bearer ${token}` });
    cleanups.push(() => stream.close());
    const interrupted = await stream.waitFor((e) => e.event === 'turn.interrupted');
    expect(interrupted.data.turn_id).toBe(running.id);
    const completed = await stream.waitFor((e) => e.event === 'turn.completed');
    expect(completed.data).toMatchObject({ turn_id: queued.id, output: 'echo: after the crash' });
    expect((await api(second.url, 'GET', `/v1/threads/${a.id}/turns/${running.id}`)).body.status).toBe('interrupted');
    // Each turn ended exactly once, and seq only grew across the crash.
    const ends = stream.events.filter((e) => /^turn\.(completed|failed|cancelled|interrupted)$/.test(e.event ?? ''));
    expect(ends.map((e) => e.data.turn_id).sort()).toEqual([running.id, queued.id].sort());
    const ids = stream.events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(ids).size).toBe(ids.length);
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
  });
});

describe('tether up', () => {
  it('without bridge credentials runs the runtime alone, says how to add one, and stops on SIGINT', async () => {
    const root = tempRoot();
    const child = spawnCli(['up'], { env: baseEnv(root), cwd: root });
    cleanups.push(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const listening = await waitForLine(child, /^\[runtime\] .*"msg":"runtime listening"/);
    const { url } = JSON.parse(listening.replace(/^\[runtime\] /, '')) as { url: string };
    expect((await apiRequest(url, undefined, 'GET', '/health')).status).toBe(200);
    await waitForLine(child, /^\[runtime\] .*no chat bridge has credentials.*TELEGRAM_BOT_TOKEN/);
    child.kill('SIGINT');
    expect(await exited(child)).toBe(0);
  });

  it('with Telegram credentials runs the bridge as a child with [telegram] lines; SIGTERM stops both', async () => {
    const root = tempRoot();
    const telegram = await startFakeTelegram();
    cleanups.push(() => telegram.close());
    const child = spawnCli(['up'], { env: { ...baseEnv(root), TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.url }, cwd: root });
    cleanups.push(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    await waitForLine(child, /^\[runtime\] .*"msg":"bridges started"/);
    await waitForLine(child, /^\[telegram\] \{/, 20_000);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });
  it("hands the bridge its own TELEGRAM_API_ROOT even when the URL carries a proxy's password, so it goes through that proxy", async () => {
    const root = tempRoot();
    const telegram = await startFakeTelegram();
    cleanups.push(() => telegram.close());
    const apiRoot = telegram.url.replace('http://', 'http://proxyuser:Pr0xyPassw0rd@');
    const child = spawnCli(['up'], { env: { ...baseEnv(root), TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: apiRoot }, cwd: root });
    cleanups.push(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await waitUntil(() => telegram.callCount('getMe') > 0, 'the bridge asked the configured Bot API root who it is', 20_000);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(output).not.toContain('Pr0xyPassw0rd');
  });
});
