// The README's set-up (.env in the working directory with a bot token and two provider keys) as a real `tether runtime`: the model never gets a secret, in any approval mode.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApprovalMode } from '../../../lib/config.js';
import { startFakeModel } from '../../fakes/model-server.js';
import { startRuntimeProcess } from '../../support/cli.js';
import { apiRequest } from '../../support/runtime.js';
import { openEventStream } from '../../support/sse.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const SECRETS = {
  TELEGRAM_BOT_TOKEN: '7012345678:AAH-botToken-from-dotenv-xxxxxxxxxxxx',
  OPENAI_API_KEY: 'sk-openai-key-from-dotenv-1111',
  DEEPSEEK_API_KEY: 'sk-deepseek-key-from-dotenv-2222',
};
/** In the runtime's real environment (what /proc/<pid>/environ shows), not in .env. */
const ENVIRON_SECRETS = { SLACK_BOT_TOKEN: 'xoxb-slack-token-in-environ-3333', FEISHU_APP_SECRET: 'feishu-secret-in-environ-4444' };

const toolCall = (name: string, args: unknown) => `!tool ${name} ${JSON.stringify(args)}`;

describe('secrets, as a user sets Tether up', () => {
  it('reading .env, the state dir or /proc/<runtime pid>/environ gets a refusal or [redacted], in every approval mode', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tether-secrets-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const ws = join(root, 'project');
    mkdirSync(ws);
    writeFileSync(join(ws, '.env'), Object.entries(SECRETS).map(([k, v]) => `${k}=${v}\n`).join(''));
    writeFileSync(join(ws, 'README.md'), 'hello\n');
    const model = await startFakeModel();
    cleanups.push(() => model.close());
    const stateDir = join(root, 'state');
    const env = { HOME: root, TETHER_STATE_DIR: stateDir, TETHER_PORT: '0', TETHER_PROVIDER: 'vllm', TETHER_MODEL: 'fake', TETHER_BASE_URL: model.url, TETHER_APPROVAL: 'ask', ...ENVIRON_SECRETS };
    // The workspace defaults to the working directory, which holds .env: the README's set-up.
    const { child, url } = await startRuntimeProcess(env, ws, (fn) => cleanups.push(fn));
    const token = readFileSync(join(stateDir, 'runtime.token'), 'utf8').trim();
    const api = (method: string, path: string, body?: unknown) => apiRequest(url, token, method, path, body);
    const stream = await openEventStream(`${url}/v1/events?after=0`, { authorization: `Bearer ${token}` });
    cleanups.push(() => stream.close());

    const attempts = [
      toolCall('read_file', { path: '.env' }),
      toolCall('read_file', { path: join(stateDir, 'runtime.token') }),
      toolCall('list_dir', { path: stateDir }),
      toolCall('read_file', { path: `/proc/${child.pid}/environ` }),
    ];
    const finished: Record<string, unknown[]> = {};
    for (const mode of ['readonly', 'ask', 'auto'] as ApprovalMode[]) {
      const thread = (await api('POST', '/v1/threads', { approval: mode })).body;
      const inputs = mode === 'auto' ? [...attempts, toolCall('shell', { command: `tr '\\0' '\\n' < /proc/$PPID/environ; cat .env` })] : attempts;
      for (const input of inputs) {
        const turn = (await api('POST', `/v1/threads/${thread.id}/turns`, { input })).body;
        const done = await stream.waitFor((e) => e.data?.turn_id === turn.id && e.event === 'turn.completed');
        const tool = stream.events.find((e) => e.data?.turn_id === turn.id && e.event === 'tool.finished');
        (finished[mode] ??= []).push({ ok: tool?.data.ok, summary: tool?.data.summary, output: done.data.output });
      }
    }

    for (const mode of ['readonly', 'ask', 'auto']) {
      const [dotenv, tokenFile, stateListing, environ] = finished[mode] as Array<{ ok: boolean; summary: string }>;
      expect(dotenv, mode).toMatchObject({ ok: false, summary: 'read .env: path .env is a .env file, which holds credentials' });
      expect(tokenFile, mode).toMatchObject({ ok: false, summary: expect.stringMatching(/state directory/) });
      expect(stateListing, mode).toMatchObject({ ok: false, summary: expect.stringMatching(/state directory/) });
      expect(environ, mode).toMatchObject({ ok: false, summary: expect.stringMatching(/outside the workspace/) });
    }
    // auto: the shell really read the runtime's environ and .env, and the model saw [redacted] for every secret.
    const shellResult = model.requests.map((r) => r.body.messages.at(-1)).find((m) => m.role === 'tool' && String(m.content).includes('TETHER_BASE_URL='));
    expect(shellResult.content).toContain('SLACK_BOT_TOKEN=[redacted]');
    expect(shellResult.content).toContain('TELEGRAM_BOT_TOKEN=[redacted]');
    expect(shellResult.content).toContain('DEEPSEEK_API_KEY=[redacted]');

    // Nothing the model was sent, and no event any client saw, holds a secret.
    const seen = JSON.stringify(model.requests.map((r) => r.body)) + JSON.stringify(stream.events);
    for (const secret of [...Object.values(SECRETS), ...Object.values(ENVIRON_SECRETS), token]) expect(seen).not.toContain(secret);
  }, 30_000);

  it('a short password in TETHER_BASE_URL never reaches a shell command, and reads [redacted] in a process environment', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tether-secrets-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const ws = join(root, 'project');
    mkdirSync(ws);
    const model = await startFakeModel();
    cleanups.push(() => model.close());
    const stateDir = join(root, 'state');
    const baseUrl = model.url.replace('http://', 'http://me:abc12@');
    const env = { HOME: root, TETHER_STATE_DIR: stateDir, TETHER_PORT: '0', TETHER_PROVIDER: 'vllm', TETHER_MODEL: 'fake', TETHER_BASE_URL: baseUrl, TETHER_APPROVAL: 'auto' };
    const { url } = await startRuntimeProcess(env, ws, (fn) => cleanups.push(fn));
    const token = readFileSync(join(stateDir, 'runtime.token'), 'utf8').trim();
    const api = (method: string, path: string, body?: unknown) => apiRequest(url, token, method, path, body);
    const stream = await openEventStream(`${url}/v1/events?after=0`, { authorization: `Bearer ${token}` });
    cleanups.push(() => stream.close());
    const thread = (await api('POST', '/v1/threads', {})).body;
    const command = `echo "own: $TETHER_BASE_URL"; tr '\\0' '\\n' < /proc/$PPID/environ | grep '^TETHER_BASE_URL='`;
    const turn = (await api('POST', `/v1/threads/${thread.id}/turns`, { input: toolCall('shell', { command }) })).body;
    await stream.waitFor((e) => e.data?.turn_id === turn.id && e.event === 'turn.completed');
    const shellResult = model.requests.map((r) => r.body.messages.at(-1)).find((m) => m.role === 'tool');
    expect(shellResult.content).toContain('own: \n');
    expect(shellResult.content).toContain(`TETHER_BASE_URL=${model.url.replace('http://', 'http://me:[redacted]@')}`);
    expect(JSON.stringify(model.requests.map((r) => r.body)) + JSON.stringify(stream.events)).not.toContain(':abc12@');
  }, 30_000);
});
