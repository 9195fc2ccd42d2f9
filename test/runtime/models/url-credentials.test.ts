// Credentials in TETHER_BASE_URL, as a user meets them: a failing provider is named without them in turn.failed, in tether chat and in the logs.
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel } from '../../fakes/model-server.js';
import { runCli, spawnRuntime, waitForLine } from '../../support/cli.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('TETHER_BASE_URL with credentials', () => {
  it('turn.failed, tether chat and the runtime log show the provider without its user name and password', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tether-url-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    mkdirSync(join(root, 'ws'));
    const model = await startFakeModel();
    cleanups.push(() => model.close());
    model.enqueue({ status: 400, message: 'context too long' });
    const base = model.url.replace('http://', 'http://alice:hunter2-pass@');
    const env = { HOME: root, TETHER_STATE_DIR: join(root, 'state'), TETHER_WORKSPACE: join(root, 'ws'), TETHER_PORT: '0', TETHER_PROVIDER: 'vllm', TETHER_MODEL: 'fake', TETHER_BASE_URL: base };
    const runtime = spawnRuntime(env, root, (fn) => cleanups.push(fn));
    let logs = '';
    runtime.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
    const url = (JSON.parse(await waitForLine(runtime, /"msg":"runtime listening"/)) as { url: string }).url;
    const token = readFileSync(join(root, 'state', 'runtime.token'), 'utf8').trim();

    const chat = await runCli(['chat'], { env: { TETHER_RUNTIME_URL: url, TETHER_TOKEN: token, TETHER_STATE_DIR: join(root, 'state') }, input: 'hello\n' });
    expect(chat.code).toBe(0);
    expect(chat.stdout).toContain(`✗ turn failed: the provider at ${model.url} rejected the request (400): context too long`);
    await waitForLine(runtime, /"msg":"turn failed"/);
    expect(model.requests).toHaveLength(1);
    for (const text of [chat.stdout, chat.stderr, logs]) expect(text).not.toMatch(/alice|hunter2/);
  }, 20_000);
});
