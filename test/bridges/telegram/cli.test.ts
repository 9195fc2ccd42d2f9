// `tether telegram` as a process: bad tokens in one line, pairing from a phone, kill -9 mid-turn, clean SIGTERM.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PAIR_REFUSED_TEXT } from '../../../bridges/core/pairing.js';
import { startFakeTelegram, type FakeTelegram } from '../../fakes/telegram-bot-api.js';
import { repoRoot, runCli, spawnCli, waitForLine } from '../../support/cli.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { freePort } from '../../support/wait.js';

const alice = { id: 1001, first_name: 'Alice' };
const bob = { id: 1002, first_name: 'Bob' };
const carol = { id: 1003, first_name: 'Carol' };


const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

interface Setup {
  rt: TestRuntime;
  fake: FakeTelegram;
  env: Record<string, string>;
  spawnBridge(): ChildProcess;
}

async function setup(extra: Record<string, string> = {}): Promise<Setup> {
  const rt = await startTestRuntime({ TETHER_PORT: String(await freePort()) });
  cleanups.push(() => rt.stop());
  const fake = await startFakeTelegram();
  cleanups.push(() => fake.close());
  const env = {
    TELEGRAM_BOT_TOKEN: fake.token,
    TELEGRAM_API_ROOT: fake.url,
    TETHER_STATE_DIR: rt.stateDir,
    TETHER_RUNTIME_URL: rt.url,
    TETHER_TOKEN: rt.token,
    TETHER_PROGRESS: 'off',
    ...extra,
  };
  return {
    rt,
    fake,
    env,
    spawnBridge() {
      const child = spawnCli(['telegram'], { env, cwd: rt.workspace });
      cleanups.push(async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited(child);
        }
      });
      return child;
    },
  };
}

describe('tether telegram', () => {
  it('--help explains the variables', async () => {
    const r = await runCli(['telegram', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('TELEGRAM_BOT_TOKEN');
  });

  it('a missing token is one line naming TELEGRAM_BOT_TOKEN', async () => {
    const r = await runCli(['telegram'], { env: { TETHER_STATE_DIR: '/tmp/tether-none' }, cwd: '/tmp' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tether telegram: TELEGRAM_BOT_TOKEN is not set: .*@BotFather/)]);
  });

  it('a refused token at start is one clear line and exit 1', async () => {
    const fake = await startFakeTelegram();
    cleanups.push(() => fake.close());
    const wrong = '123456789:AAthisTokenWasRevokedInBotFather_xxxxx';
    const r = await runCli(['telegram'], { env: { TELEGRAM_BOT_TOKEN: wrong, TELEGRAM_API_ROOT: fake.url, TETHER_STATE_DIR: '/tmp/tether-none', TETHER_TOKEN: 'x'.repeat(32) }, cwd: '/tmp' });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^tether telegram: Telegram refused TELEGRAM_BOT_TOKEN \(401 Unauthorized\)/);
    expect(r.stderr + r.stdout).not.toContain(wrong);
    expect(fake.callsOf('getMe')).toHaveLength(1);
    expect(fake.callCount('getUpdates')).toBe(0);
  });

  it('an unreachable Bot API is one line that shows TELEGRAM_API_ROOT without its user name and password', async () => {
    const port = await freePort();
    const env = { TELEGRAM_BOT_TOKEN: '123456789:AAHfakeTokenfakeTokenfakeTokenfake12', TELEGRAM_API_ROOT: `http://proxyuser:Pr0xyPassw0rd@127.0.0.1:${port}`, TETHER_STATE_DIR: '/tmp/tether-none', TETHER_TOKEN: 'x'.repeat(32) };
    const r = await runCli(['telegram'], { env, cwd: '/tmp' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^tether telegram: cannot reach the Telegram Bot API at http://127\\.0\\.0\\.1:${port} \\(`))]);
    expect(r.stderr + r.stdout).not.toMatch(/Pr0xyPassw0rd|proxyuser/);
  });

  it('pairs a phone with the code logged at start; wrong codes never pair and guesses are limited', async () => {
    const s = await setup();
    const bridge = s.spawnBridge();
    const line = await waitForLine(bridge, /send it \/pair [A-Z0-9]{8}/, 20_000);
    const code = /\/pair ([A-Z0-9]{8})/.exec(line)![1]!;
    expect(line).not.toContain(s.fake.token);

    // Carol guesses five times, then even the right code is refused with the same answer.
    for (let i = 0; i < 5; i++) s.fake.userSends(carol.id, `/pair WRONG${i}AB`, { from: carol });
    s.fake.userSends(carol.id, `/pair ${code}`, { from: carol });
    await s.fake.waitFor(() => s.fake.sent(carol.id).length === 6, 20_000, 'six answers to carol');
    expect(new Set(s.fake.sent(carol.id).map((m) => m.text))).toEqual(new Set([PAIR_REFUSED_TEXT]));

    s.fake.userSends(bob.id, `/pair ${code}`, { from: bob });
    s.fake.userSends(bob.id, 'hello from bob', { from: bob });
    await s.fake.waitFor(() => s.fake.sent(bob.id).some((m) => m.text === 'echo: hello from bob'), 20_000, "bob's reply");
    s.fake.userSends(carol.id, 'am I in?', { from: carol });
    await s.fake.waitFor(() => s.fake.sent(carol.id).length === 7, 20_000, 'the stranger answer to carol');
    expect(s.fake.sent(carol.id)[6]?.text).not.toContain('echo:');
    const prompts = s.rt.model.requests.map((r) => JSON.stringify(r.body));
    expect(prompts.some((p) => p.includes('am I in?'))).toBe(false);
  });

  it.runIf(existsSync(join(repoRoot, 'cli', 'pair.ts')))('tether pair approve admits a stranger by the request code they were given', async () => {
    const s = await setup({ TELEGRAM_ALLOWLIST: String(alice.id) });
    const bridge = s.spawnBridge();
    await waitForLine(bridge, /telegram bridge running/, 20_000);
    s.fake.userSends(bob.id, 'let me in', { from: bob });
    const answer = await s.fake.waitFor(() => s.fake.sent(bob.id)[0], 20_000, 'the request code');
    const code = /request code: ([A-Z0-9]{8})/.exec(answer.text)![1]!;
    const approved = await runCli(['pair', 'approve', 'telegram', code], { env: s.env, cwd: s.rt.workspace });
    expect(approved.code).toBe(0);
    s.fake.userSends(bob.id, 'now?', { from: bob });
    await s.fake.waitFor(() => s.fake.sent(bob.id).some((m) => m.text === 'echo: now?'), 20_000, "bob's reply");
  });

  it('kill -9 mid-turn, then restart: the reply arrives once', async () => {
    const s = await setup({ TELEGRAM_ALLOWLIST: String(alice.id) });
    const first = s.spawnBridge();
    await waitForLine(first, /telegram bridge running/, 20_000);
    s.fake.userSends(alice.id, '!slow 250 survives a crash intact', { from: alice });
    await s.rt.model.waitForRequests(1, 15_000);
    first.kill('SIGKILL');
    await exited(first);
    const second = s.spawnBridge();
    await waitForLine(second, /telegram bridge running/, 20_000);
    await s.fake.waitFor(() => s.fake.sent(alice.id).length >= 1, 20_000, 'the reply after restart');
    // Give a duplicate every chance to show up: a later message's reply proves the outbox drained past it.
    s.fake.userSends(alice.id, 'after', { from: alice });
    await s.fake.waitFor(() => s.fake.sent(alice.id).some((m) => m.text === 'echo: after'), 20_000);
    expect(s.fake.sent(alice.id).map((m) => m.text)).toEqual(['survives a crash intact', 'echo: after']);
    const [thread] = (await s.rt.api('GET', '/v1/threads?metadata.platform=telegram')).body.threads;
    const turns: { input: string }[] = (await s.rt.api('GET', `/v1/threads/${thread.id}`)).body.turns;
    expect(turns.map((t) => t.input)).toEqual(['!slow 250 survives a crash intact', 'after']);
  });

  it('a token revoked while running stops the bridge with one line and exit 1', async () => {
    const s = await setup({ TELEGRAM_ALLOWLIST: String(alice.id) });
    const bridge = s.spawnBridge();
    let stderr = '';
    bridge.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    await waitForLine(bridge, /telegram bridge running/, 20_000);
    await s.fake.waitFor(() => s.fake.isPolling(), 10_000);
    s.fake.fail({ method: 'getUpdates', error_code: 401, description: 'Unauthorized', times: 1000 });
    s.fake.userSends(alice.id, 'wakes the parked poll', { from: alice });
    expect(await exited(bridge)).toBe(1);
    expect(stderr.trim().split('\n')).toEqual(['tether telegram: Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized): copy the token again from @BotFather (/mybots → API Token) into telegram.env']);
    expect(s.fake.callsOf('getUpdates').filter((c) => c.errorCode === 401)).toHaveLength(1);
    // Health tells a refused token from a normal stop.
    expect(JSON.parse(readFileSync(join(s.rt.stateDir, 'telegram.health.json'), 'utf8'))).toMatchObject({ state: 'failed', stopReason: expect.stringContaining('TELEGRAM_BOT_TOKEN') });
  });

  it('starts before the runtime has written its token, and the reply arrives once the runtime is up', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'tether-tg-first-boot-'));
    cleanups.push(async () => rmSync(stateDir, { recursive: true, force: true }));
    const fake = await startFakeTelegram();
    cleanups.push(() => fake.close());
    const port = await freePort();
    const env = { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.url, TELEGRAM_ALLOWLIST: String(alice.id), TETHER_STATE_DIR: stateDir, TETHER_RUNTIME_URL: `http://127.0.0.1:${port}`, TETHER_PROGRESS: 'off' };
    const bridge = spawnCli(['telegram'], { env, cwd: stateDir });
    cleanups.push(async () => {
      if (bridge.exitCode === null && bridge.signalCode === null) {
        bridge.kill('SIGKILL');
        await exited(bridge);
      }
    });
    const warning = await waitForLine(bridge, /the runtime's token is not there yet/, 20_000);
    expect(JSON.parse(warning)).toMatchObject({ level: 'warn', tokenFile: join(stateDir, 'runtime.token') });
    await waitForLine(bridge, /telegram bridge running/, 20_000);
    fake.userSends(alice.id, 'hello before the runtime', { from: alice });
    await fake.waitFor(() => fake.pendingUpdates() === 0, 10_000, 'the bridge to take the message');
    const rt = await startTestRuntime({ TETHER_PORT: String(port), TETHER_STATE_DIR: stateDir });
    cleanups.push(() => rt.stop());
    await fake.waitFor(() => fake.sent(alice.id).some((m) => m.text === 'echo: hello before the runtime'), 30_000, 'the reply');
    fake.userSends(alice.id, 'after', { from: alice });
    await fake.waitFor(() => fake.sent(alice.id).some((m) => m.text === 'echo: after'), 20_000);
    // The "queued" notice shows only when the wait passed 5 s; the replies come once each, in order.
    expect(fake.sent(alice.id).map((m) => m.text).filter((t) => !t.includes('queued'))).toEqual(['echo: hello before the runtime', 'echo: after']);
    expect(bridge.exitCode).toBeNull();
  });

  it('SIGTERM stops it cleanly with exit 0', async () => {
    const s = await setup({ TELEGRAM_ALLOWLIST: String(alice.id) });
    const bridge = s.spawnBridge();
    await waitForLine(bridge, /telegram bridge running/, 20_000);
    await s.fake.waitFor(() => s.fake.isPolling(), 10_000);
    bridge.kill('SIGTERM');
    expect(await exited(bridge)).toBe(0);
    expect(s.fake.isPolling()).toBe(false);
  });
});
