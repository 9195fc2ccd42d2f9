// `tether feishu` as a process against the fake Feishu: bad config and credentials in one line, start while Feishu is unreachable, pairing, kill -9 mid-turn, tether up.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PAIR_REFUSED_TEXT } from '../../../bridges/core/pairing.js';
import { startFakeFeishu, type FakeFeishu } from '../../fakes/feishu-open-platform.js';
import { runCli, spawnCli, waitForLine } from '../../support/cli.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { freePort } from '../../support/wait.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function output(child: ChildProcess): { all: () => string } {
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  return { all: () => text };
}

interface Setup {
  rt: TestRuntime;
  fake: FakeFeishu;
  env: Record<string, string>;
  spawnBridge(extra?: Record<string, string>): ChildProcess;
}

async function setup(extra: (fake: FakeFeishu) => Record<string, string> = () => ({})): Promise<Setup> {
  const rt = await startTestRuntime({ TETHER_PORT: String(await freePort()) });
  cleanups.push(() => rt.stop());
  const fake = await startFakeFeishu();
  cleanups.push(() => fake.close());
  const env = {
    FEISHU_APP_ID: fake.appId,
    FEISHU_APP_SECRET: fake.appSecret,
    FEISHU_DOMAIN: fake.url,
    TETHER_STATE_DIR: rt.stateDir,
    TETHER_RUNTIME_URL: rt.url,
    TETHER_TOKEN: rt.token,
    TETHER_PROGRESS: 'off',
    ...extra(fake),
  };
  return {
    rt,
    fake,
    env,
    spawnBridge(more = {}) {
      const child = spawnCli(['feishu'], { env: { ...env, ...more }, cwd: rt.workspace });
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

/** A TCP relay on a port of its own to `target`, started later: Feishu "coming back" for a bridge that started without it. */
function relay(port: number, target: number): Promise<Server> {
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = connect(target, '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

describe('tether feishu', () => {
  it('--help explains the variables; an unexpected argument is one line', async () => {
    const help = await runCli(['feishu', '--help']);
    expect(help.code).toBe(0);
    for (const v of ['FEISHU_APP_ID', 'FEISHU_APP_SECRET', 'FEISHU_DOMAIN', 'FEISHU_ALLOWLIST']) expect(help.stdout).toContain(v);
    const wrong = await runCli(['feishu', 'now', '--fast']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe("tether feishu: unknown option '--fast': run tether feishu --help\n");
  });

  it('an app id of the wrong shape stops it with one line naming FEISHU_APP_ID, before any call', async () => {
    const fake = await startFakeFeishu();
    cleanups.push(() => fake.close());
    const r = await runCli(['feishu'], { env: { FEISHU_APP_ID: 'cli_0123456789ABCDEF', FEISHU_APP_SECRET: 's3cret-value', FEISHU_DOMAIN: fake.url, TETHER_STATE_DIR: '/tmp/tether-none' }, cwd: '/tmp' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tether feishu: FEISHU_APP_ID is "cli_0123456789ABCDEF", expected cli_ followed by 16 hexadecimal characters/)]);
    expect(fake.calls).toHaveLength(0);
  });

  it('a wrong app secret stops it with the Feishu code and what to fix, in one line that never shows the secret', async () => {
    const fake = await startFakeFeishu();
    cleanups.push(() => fake.close());
    const secret = 'definitely-the-wrong-secret';
    const r = await runCli(['feishu'], { env: { FEISHU_APP_ID: fake.appId, FEISHU_APP_SECRET: secret, FEISHU_DOMAIN: fake.url, TETHER_STATE_DIR: '/tmp/tether-none', TETHER_TOKEN: 'x'.repeat(32) }, cwd: '/tmp' });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(/^tether feishu: Feishu refused the app \(code 10014: app secret invalid\): copy FEISHU_APP_ID and FEISHU_APP_SECRET again/)]);
    expect(r.stderr + r.stdout).not.toContain(secret);
    expect(fake.endpointCalls()).toBe(0);
  });

  it('starts while Feishu cannot be reached, retries, and answers once it can', async () => {
    const port = await freePort();
    let alice!: ReturnType<FakeFeishu['user']>;
    const s = await setup((fake) => {
      alice = fake.user('Alice');
      return { FEISHU_DOMAIN: `http://127.0.0.1:${port}`, FEISHU_ALLOWLIST: alice.openId };
    });
    const bridge = s.spawnBridge();
    await waitForLine(bridge, /cannot reach Feishu yet/, 20_000);
    await relay(port, Number(new URL(s.fake.url).port));
    await waitForLine(bridge, /feishu bridge running/, 20_000);
    await s.fake.waitFor(() => s.fake.openConnections().length === 1, 20_000, 'the long connection');
    const chat = s.fake.p2pChat(alice);
    s.fake.pushMessage({ chat, from: alice, text: 'there you are' });
    await s.fake.waitFor(() => s.fake.sent(chat).some((m) => m.text === 'echo: there you are'), 20_000, 'the reply');
  });

  it('pairs a phone with the code logged at start; wrong codes never pair', async () => {
    const s = await setup();
    const bridge = s.spawnBridge();
    const line = await waitForLine(bridge, /send it \/pair [A-Z0-9]{8}/, 20_000);
    const code = /\/pair ([A-Z0-9]{8})/.exec(line)![1]!;
    await s.fake.waitFor(() => s.fake.openConnections().length === 1, 20_000, 'the long connection');
    const bob = s.fake.user('Bob');
    const carol = s.fake.user('Carol');
    s.fake.pushMessage({ chat: s.fake.p2pChat(carol), from: carol, text: '/pair WRONG2AB' });
    await s.fake.waitFor(() => s.fake.sent(s.fake.p2pChat(carol)).length === 1, 20_000, 'the answer to carol');
    expect(s.fake.sent(s.fake.p2pChat(carol))[0]!.text).toBe(PAIR_REFUSED_TEXT);
    s.fake.pushMessage({ chat: s.fake.p2pChat(bob), from: bob, text: `/pair ${code}` });
    s.fake.pushMessage({ chat: s.fake.p2pChat(bob), from: bob, text: 'hello from bob' });
    await s.fake.waitFor(() => s.fake.sent(s.fake.p2pChat(bob)).some((m) => m.text === 'echo: hello from bob'), 20_000, "bob's reply");
    const listed = await runCli(['pair', 'list', 'feishu'], { env: s.env, cwd: s.rt.workspace });
    expect(listed.stdout).toContain(bob.openId);
  });

  it('tether pair approve feishu admits a stranger by the request code they were given', async () => {
    const s = await setup((fake) => ({ FEISHU_ALLOWLIST: fake.user('Alice').openId }));
    const bridge = s.spawnBridge();
    await waitForLine(bridge, /feishu bridge running/, 20_000);
    await s.fake.waitFor(() => s.fake.openConnections().length === 1, 20_000, 'the long connection');
    const bob = s.fake.user('Bob');
    const chat = s.fake.p2pChat(bob);
    s.fake.pushMessage({ chat, from: bob, text: 'let me in' });
    const answer = await s.fake.waitFor(() => s.fake.sent(chat)[0], 20_000, 'the request code');
    expect(answer.text).toContain(bob.openId);
    const code = /request code: ([A-Z0-9]{8})/.exec(answer.text)![1]!;
    const approved = await runCli(['pair', 'approve', 'feishu', code], { env: s.env, cwd: s.rt.workspace });
    expect(approved.code).toBe(0);
    s.fake.pushMessage({ chat, from: bob, text: 'now?' });
    await s.fake.waitFor(() => s.fake.sent(chat).some((m) => m.text === 'echo: now?'), 20_000, "bob's reply");
  });

  it('kill -9 mid-turn, then restart: the reply arrives once, and the logs never show the secret, the access key or the ticket', async () => {
    let alice!: ReturnType<FakeFeishu['user']>;
    const s = await setup((fake) => {
      alice = fake.user('Alice');
      return { FEISHU_ALLOWLIST: alice.openId, TETHER_LOG_LEVEL: 'debug' };
    });
    const chat = s.fake.p2pChat(alice);
    const first = s.spawnBridge();
    const firstOut = output(first);
    await waitForLine(first, /feishu bridge running/, 20_000);
    await s.fake.waitFor(() => s.fake.openConnections().length === 1, 20_000, 'the long connection');
    s.fake.pushMessage({ chat, from: alice, text: '!slow 250 survives a crash intact' });
    await s.rt.model.waitForRequests(1, 15_000);
    first.kill('SIGKILL');
    await exited(first);
    const second = s.spawnBridge();
    const secondOut = output(second);
    await waitForLine(second, /feishu bridge running/, 20_000);
    await s.fake.waitFor(() => s.fake.sent(chat).length >= 1, 20_000, 'the reply after restart');
    s.fake.pushMessage({ chat, from: alice, text: 'after' });
    await s.fake.waitFor(() => s.fake.sent(chat).some((m) => m.text === 'echo: after'), 20_000);
    expect(s.fake.sent(chat).map((m) => m.text)).toEqual(['survives a crash intact', 'echo: after']);
    const [thread] = (await s.rt.api('GET', '/v1/threads?metadata.platform=feishu')).body.threads;
    const turns: { input: string }[] = (await s.rt.api('GET', `/v1/threads/${thread.id}`)).body.turns;
    expect(turns.map((t) => t.input)).toEqual(['!slow 250 survives a crash intact', 'after']);
    const logs = firstOut.all() + secondOut.all();
    expect(logs).toContain('long connection ready');
    for (const c of s.fake.connections()) {
      const q = new URL(c.url, s.fake.url).searchParams;
      expect(logs).not.toContain(q.get('access_key')!);
      expect(logs).not.toContain(q.get('ticket')!);
    }
    expect(logs).not.toContain(s.fake.appSecret);
    expect(logs).not.toContain(s.fake.currentToken!);
  });

  it('a second tether feishu for the same app on this host refuses to start, and the first keeps its one connection', async () => {
    const s = await setup();
    const first = s.spawnBridge();
    await waitForLine(first, /feishu bridge running/, 20_000);
    await s.fake.waitFor(() => s.fake.openConnections().length === 1, 20_000, 'the long connection');
    const second = await runCli(['feishu'], { env: s.env, cwd: s.rt.workspace });
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/^tether feishu: another tether feishu \(pid \d+\) is running for this bot/);
    expect(s.fake.openConnections()).toHaveLength(1);
    expect(first.exitCode).toBeNull();
  });

  it('tether up with Feishu credentials runs the bridge as a child with [feishu] lines; SIGTERM stops both', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tether-up-feishu-'));
    cleanups.push(async () => rmSync(root, { recursive: true, force: true }));
    const fake = await startFakeFeishu();
    cleanups.push(() => fake.close());
    const env = { HOME: root, TETHER_STATE_DIR: join(root, 'state'), TETHER_WORKSPACE: root, TETHER_PORT: '0', TETHER_PROVIDER: 'vllm', TETHER_MODEL: 'fake', TETHER_BASE_URL: 'http://127.0.0.1:9/v1', FEISHU_APP_ID: fake.appId, FEISHU_APP_SECRET: fake.appSecret, FEISHU_DOMAIN: fake.url };
    const child = spawnCli(['up'], { env, cwd: root });
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    await waitForLine(child, /^\[runtime\] .*"msg":"bridges started".*feishu/, 20_000);
    await waitForLine(child, /^\[feishu\] .*feishu bridge running/, 20_000);
    await fake.waitFor(() => fake.openConnections().length === 1, 20_000, 'the long connection');
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(JSON.parse(readFileSync(join(root, 'state', 'feishu.health.json'), 'utf8'))).toMatchObject({ state: 'stopped' });
  });
});
