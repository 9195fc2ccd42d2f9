// kill -9 with a running and a queued turn, then a turn posted the moment the new runtime answers: FIFO holds across the restart.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel } from '../../fakes/model-server.js';
import { spawnRuntime, waitForLine } from '../../support/cli.js';
import { apiRequest } from '../../support/runtime.js';
import { openEventStream } from '../../support/sse.js';
import { freePort } from '../../support/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('restart after kill -9', () => {
  it('a turn posted as soon as /health answers runs after the interrupted and the queued turn of its thread', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tether-order-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const ws = join(root, 'ws');
    mkdirSync(ws);
    const model = await startFakeModel();
    cleanups.push(() => model.close());
    const port = await freePort();
    const env = {
      HOME: root,
      TETHER_STATE_DIR: join(root, 'state'),
      TETHER_WORKSPACE: ws,
      TETHER_PORT: String(port),
      TETHER_PROVIDER: 'vllm',
      TETHER_MODEL: 'fake',
      TETHER_BASE_URL: model.url,
      TETHER_APPROVAL: 'auto',
    };
    const url = `http://127.0.0.1:${port}`;
    const first = spawnRuntime(env, root, (fn) => cleanups.push(fn));
    await waitForLine(first, /"msg":"runtime listening"/);
    const token = readFileSync(join(root, 'state', 'runtime.token'), 'utf8').trim();
    const thread = (await apiRequest(url, token, 'POST', '/v1/threads', {})).body;
    // The shell ignores SIGTERM, so the next start's reaper waits its whole grace before SIGKILL.
    const command = "trap '' TERM; echo started > started.txt; sleep 300";
    const running = (await apiRequest(url, token, 'POST', `/v1/threads/${thread.id}/turns`, { input: `!tool shell ${JSON.stringify({ command })}` })).body;
    const stream = await openEventStream(`${url}/v1/threads/${thread.id}/events?after=0`, { authorization: `Bearer ${token}` });
    await stream.waitFor((e) => e.event === 'tool.started' && e.data.turn_id === running.id);
    const queued = (await apiRequest(url, token, 'POST', `/v1/threads/${thread.id}/turns`, { input: 'queued before the crash' })).body;
    expect(queued.status).toBe('queued');
    stream.close();

    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));

    const second = spawnRuntime(env, root, (fn) => cleanups.push(fn));
    let health: Response | undefined;
    for (let i = 0; i < 400 && !health?.ok; i++) {
      health = await fetch(`${url}/health`).catch(() => undefined);
      if (!health?.ok) await new Promise((r) => setTimeout(r, 10));
    }
    expect(health?.ok).toBe(true);
    const posted = await apiRequest(url, token, 'POST', `/v1/threads/${thread.id}/turns`, { input: 'posted right after the restart' });
    expect(posted.status).toBe(202);
    const after = await openEventStream(`${url}/v1/threads/${thread.id}/events?after=0`, { authorization: `Bearer ${token}` });
    cleanups.push(() => after.close());
    await after.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === posted.body.id, 20_000);

    const order = after.events
      .filter((e) => ['turn.started', 'turn.completed', 'turn.interrupted'].includes(e.event!))
      .map((e) => `${e.event} ${e.data.turn_id === running.id ? 'R' : e.data.turn_id === queued.id ? 'Q' : e.data.turn_id === posted.body.id ? 'N' : '?'}`);
    expect(order).toEqual(['turn.started R', 'turn.interrupted R', 'turn.started Q', 'turn.completed Q', 'turn.started N', 'turn.completed N']);
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));
  }, 40_000);
});
