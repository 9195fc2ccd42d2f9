// `tether chat` as a person uses it: a real CLI process talking to a real runtime with the fake model.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../support/cli.js';
import { startTestRuntime, type TestRuntime } from '../support/runtime.js';

let rt: TestRuntime;

beforeAll(async () => {
  rt = await startTestRuntime();
});
afterAll(async () => {
  await rt?.stop();
});

function chatEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return { TETHER_RUNTIME_URL: rt.url, TETHER_TOKEN: rt.token, TETHER_STATE_DIR: rt.stateDir, ...overrides };
}

function threadIdsIn(stdout: string): string[] {
  return [...stdout.matchAll(/thread (\S+) \(resume later with: tether chat --thread \1\)/g)].map((m) => m[1]!);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function messagesOf(request: { body: any }): Array<{ role: string; content: unknown }> {
  return request.body.messages;
}

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Collects a child's stdout and waits for text in it. Streamed replies have no line end until
 * the turn ends, so this waits on the raw output rather than on lines.
 */
function watchOutput(child: ChildProcess): { stdout: () => string; printed: (text: string) => Promise<void> } {
  let stdout = '';
  const checks = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const check of checks) check();
  });
  const printed = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        checks.delete(check);
        reject(new Error(`waited for ${JSON.stringify(text)}; the chat printed:\n${stdout}`));
      }, 15_000);
      const check = () => {
        if (!stdout.includes(text)) return;
        clearTimeout(timer);
        checks.delete(check);
        resolve();
      };
      checks.add(check);
      check();
    });
  return { stdout: () => stdout, printed };
}

describe('tether chat', () => {
  it('holds a conversation: each line is a turn of one terminal thread, the second sees the first', async () => {
    const before = rt.model.requests.length;
    const res = await runCli(['chat'], { env: chatEnv(), input: 'my name is Ada\nwhat is my name?\n' });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('echo: my name is Ada\n');
    expect(res.stdout).toContain('echo: what is my name?\n');

    const [threadId] = threadIdsIn(res.stdout);
    const thread = (await rt.api('GET', `/v1/threads/${threadId}`)).body;
    expect(thread.metadata).toEqual({ platform: 'terminal' });
    expect(thread.turns.map((t: { input: string; status: string }) => [t.input, t.status])).toEqual([
      ['my name is Ada', 'completed'],
      ['what is my name?', 'completed'],
    ]);
    const second = rt.model.requests[before + 1]!;
    const contents = messagesOf(second).map((m) => m.content);
    expect(contents).toContain('my name is Ada');
    expect(contents).toContain('echo: my name is Ada');
  });

  it('asks before a shell command and runs it after y, then the reply carries its output', async () => {
    const before = rt.model.requests.length;
    const res = await runCli(['chat'], { env: chatEnv(), input: '!tool shell {"command":"echo hi"}\ny\n' });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('⚠ shell wants to run: $ echo hi\nApprove? [y/N] y\n');
    expect(res.stdout).toMatch(/⚙ shell: \$ echo hi → exit 0/);
    expect(res.stdout).toMatch(/done: hi/);
    const toolMessage = messagesOf(rt.model.requests[rt.model.requests.length - 1]!).find((m) => m.role === 'tool');
    expect(String(toolMessage?.content)).toContain('hi');
    expect(rt.model.requests.length).toBe(before + 2);
  });

  it('denies after n: the command never runs and the turn still finishes', async () => {
    const res = await runCli(['chat'], { env: chatEnv(), input: '!tool shell {"command":"touch denied.txt"}\nn\nafter the denial\n' });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Approve? [y/N] n\n✗ denied\n');
    expect(res.stdout).not.toContain('⚙ shell');
    expect(res.stdout).toContain('echo: after the denial');
    expect(existsSync(join(rt.workspace, 'denied.txt'))).toBe(false);
    const [threadId] = threadIdsIn(res.stdout);
    const turns = (await rt.api('GET', `/v1/threads/${threadId}`)).body.turns;
    expect(turns.map((t: { status: string }) => t.status)).toEqual(['completed', 'completed']);
  });

  it('takes no answer at end of input as a denial', async () => {
    const res = await runCli(['chat'], { env: chatEnv(), input: '!tool shell {"command":"touch unanswered.txt"}\n' });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('(no answer: denied)');
    expect(existsSync(join(rt.workspace, 'unanswered.txt'))).toBe(false);
  });

  it('resumes a thread with --thread: shows its last turns and continues it', async () => {
    const first = await runCli(['chat'], { env: chatEnv(), input: 'remember the lighthouse\n' });
    const [threadId] = threadIdsIn(first.stdout);
    const res = await runCli(['chat', '--thread', threadId!], { env: chatEnv(), input: 'and now?\n' });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`resumed thread ${threadId}`);
    expect(res.stdout).toContain('you: remember the lighthouse');
    expect(res.stdout).toContain('agent: echo: remember the lighthouse');
    expect(res.stdout).toContain('echo: and now?');
    const turns = (await rt.api('GET', `/v1/threads/${threadId}`)).body.turns;
    expect(turns.map((t: { input: string }) => t.input)).toEqual(['remember the lighthouse', 'and now?']);
  });

  it('/new moves to a fresh thread; /help lists the commands; unknown commands are refused', async () => {
    const res = await runCli(['chat'], { env: chatEnv(), input: 'in the first\n/help\n/new\nin the second\n/bogus\n/exit\nnever sent\n' });
    expect(res.code).toBe(0);
    const ids = threadIdsIn(res.stdout);
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);
    expect(res.stdout).toMatch(/\/new\s+start a fresh thread/);
    expect(res.stdout).toContain('unknown command /bogus');
    const second = (await rt.api('GET', `/v1/threads/${ids[1]}`)).body;
    expect(second.turns.map((t: { input: string }) => t.input)).toEqual(['in the second']);
    expect(res.stdout).not.toContain('never sent');
  });

  it('Ctrl-C stops the running turn and the chat goes on', async () => {
    const child = spawnCli(['chat'], { env: chatEnv() });
    const { printed, stdout } = watchOutput(child);
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      child.stdin!.write('!slow 150 one two three four five six seven eight nine ten eleven twelve\n');
      await printed('one ');
      child.kill('SIGINT');
      await printed('✗ turn cancelled');
      child.stdin!.end('still here?\n');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(stdout()).toContain('echo: still here?');
    expect(stdout()).not.toContain('twelve');
    const [threadId] = threadIdsIn(stdout());
    const turns = (await rt.api('GET', `/v1/threads/${threadId}`)).body.turns;
    expect(turns.map((t: { status: string }) => t.status)).toEqual(['cancelled', 'completed']);
  });

  it('waits through a runtime restart and reports the turn it interrupted', async () => {
    const own = await startTestRuntime({ TETHER_PORT: String(await unusedPort()) });
    const child = spawnCli(['chat'], { env: { TETHER_RUNTIME_URL: own.url, TETHER_TOKEN: own.token, TETHER_STATE_DIR: own.stateDir } });
    const { printed, stdout } = watchOutput(child);
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      child.stdin!.write('!slow 200 alpha beta gamma delta epsilon zeta eta theta iota kappa\n');
      await printed('alpha ');
      await own.stopRuntime();
      await printed('lost the connection to the runtime');
      await own.restart();
      await printed('✗ turn interrupted');
      child.stdin!.end('back again\n');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await own.stop();
    }
    expect(stdout()).toContain('… reconnected');
    expect(stdout()).toContain('echo: back again');
    expect(stdout()).not.toContain('kappa');
  });

  it('says in one line when the runtime no longer has the thread (its state was reset), and /new goes on', async () => {
    const port = String(await unusedPort());
    const token = 'reset-state-token-0123456789';
    const before = await startTestRuntime({ TETHER_PORT: port, TETHER_TOKEN: token });
    const child = spawnCli(['chat'], { env: { TETHER_RUNTIME_URL: before.url, TETHER_TOKEN: token, TETHER_STATE_DIR: before.stateDir } });
    const { printed, stdout } = watchOutput(child);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let after: TestRuntime | undefined;
    try {
      await printed('new thread ');
      await before.stop();
      // The same address and token, fresh state: the chat's thread is not there.
      after = await startTestRuntime({ TETHER_PORT: port, TETHER_TOKEN: token });
      await printed('any more');
      child.stdin!.end('/new\nhello again\n');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await after?.stop();
    }
    const [gone] = threadIdsIn(stdout());
    expect(stdout()).toContain(`✗ the runtime has no thread ${gone} any more (was its state reset?); /new starts a fresh one\n`);
    expect(stdout()).toContain('echo: hello again');
    expect(stderr).toBe('');
  });

  it('says in one line that the runtime is down, and exits 1', async () => {
    const port = await unusedPort();
    const res = await runCli(['chat'], { env: chatEnv({ TETHER_RUNTIME_URL: `http://127.0.0.1:${port}` }), input: 'hello\n' });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toBe(`tether chat: cannot reach the runtime at http://127.0.0.1:${port}: start it with \`tether runtime\` or \`npm start\`\n`);
  });

  it('never prints the user name or password of TETHER_RUNTIME_URL', async () => {
    const port = await unusedPort();
    const res = await runCli(['chat'], { env: chatEnv({ TETHER_RUNTIME_URL: `http://u:RtPassw0rd99@127.0.0.1:${port}` }), input: 'hello\n' });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`tether chat: cannot reach the runtime at http://127.0.0.1:${port}: start it with \`tether runtime\` or \`npm start\`\n`);
  });

  it('redacts a registered secret in its last error line, whoever wrote it into the error', async () => {
    // Something between chat and runtime (a misconfigured proxy) answers with the token in its error page.
    const proxy = createHttpServer((req, res) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`upstream refused token ${String(req.headers.authorization).replace(/^Bearer /, '')}`);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = proxy.address() as AddressInfo;
      const token = 'chat-token-0123456789abcdef';
      const res = await runCli(['chat'], { env: chatEnv({ TETHER_RUNTIME_URL: `http://127.0.0.1:${port}`, TETHER_TOKEN: token }), input: 'hello\n' });
      expect(res.code).toBe(1);
      expect(res.stderr).toBe('tether chat: the runtime answered HTTP 502: upstream refused token [redacted]\n');
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('says in one line that the token was refused, and exits 1', async () => {
    const res = await runCli(['chat'], { env: chatEnv({ TETHER_TOKEN: 'not-the-runtime-token' }), input: 'hello\n' });
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toContain(`the runtime at ${rt.url} refused the token`);
  });

  it('finds the token in the state dir when TETHER_TOKEN is unset', async () => {
    const { TETHER_TOKEN: _unused, ...env } = chatEnv();
    const res = await runCli(['chat'], { env, input: 'token from the file\n' });
    expect(existsSync(join(rt.stateDir, 'runtime.token'))).toBe(true);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('echo: token from the file');
  });

  it('without TETHER_TOKEN or a token file, says so in one line', async () => {
    const { TETHER_TOKEN: _unused, ...env } = chatEnv({ TETHER_STATE_DIR: join(rt.workspace, 'no-state-here') });
    const res = await runCli(['chat'], { env, input: 'hello\n' });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^tether chat: no runtime token: TETHER_TOKEN is unset and \S+runtime\.token does not exist: .+\n$/);
  });

  it('--help explains the options and the chat commands; a stray argument is refused', async () => {
    const help = await runCli(['chat', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--thread ID');
    expect(help.stdout).toContain('/new');
    expect(help.stdout).toContain('TETHER_RUNTIME_URL');
    const stray = await runCli(['chat', 'hello'], { env: chatEnv() });
    expect(stray.code).toBe(1);
    expect(stray.stderr).toBe('tether chat: unexpected argument "hello": tether chat takes no arguments: run tether chat --help\n');
  });

  it('refuses an unknown --thread id in one line', async () => {
    const res = await runCli(['chat', '--thread', 'thr_doesnotexist'], { env: chatEnv(), input: '' });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe('tether chat: the runtime has no thread thr_doesnotexist: run tether chat without --thread to start a new one\n');
  });
});
