// Start-up recovery: a start that cannot listen runs no turn, and the next start carries on with what was queued.
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRuntimeConfig } from '../../lib/config.js';
import { silentLogger } from '../../lib/log.js';
import { startRuntime } from '../../runtime/main.js';
import { startTestRuntime } from '../support/runtime.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

describe('recovery at start', () => {
  it('a start that fails on a busy port runs no turn; the next start runs the queued turn', async () => {
    const rt = await startTestRuntime({ TETHER_WORKERS: '1' });
    cleanups.push(() => rt.stop());
    const thread = await rt.newThread();
    rt.model.enqueue({ hang: true });
    const first = (await rt.api('POST', `/v1/threads/${thread.id}/turns`, { input: 'hangs' })).body;
    await rt.model.waitForRequests(1);
    const queued = (await rt.api('POST', `/v1/threads/${thread.id}/turns`, { input: 'waits' })).body;
    await rt.stopRuntime();

    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => busy.close(() => r())));
    const port = (busy.address() as { port: number }).port;
    await expect(startRuntime({ config: loadRuntimeConfig({ ...rt.env, TETHER_PORT: String(port) }, rt.workspace), logger: silentLogger })).rejects.toThrow(/is in use/);
    expect(rt.model.requests).toHaveLength(1); // the failed start ran nothing

    await rt.restart();
    const events = await rt.events(`/v1/threads/${thread.id}/events?after=0`);
    cleanups.push(() => events.close());
    await events.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === queued.id);
    expect(events.events.filter((e) => e.data.turn_id === first.id && e.event?.startsWith('turn.') && e.event !== 'turn.queued' && e.event !== 'turn.started').map((e) => e.event)).toEqual(['turn.interrupted']);
    expect(rt.model.requests).toHaveLength(2);
  });
});
