// The event cursor: events that yield nothing move it without a commit of their own, yet it is on disk once the bridge stops, and a restart sends nothing twice.
import { afterEach, describe, expect, it } from 'vitest';
import { runBridge } from '../../../bridges/core/bridge.js';
import { BridgeStore } from '../../../bridges/core/store.js';
import { loadBridgeConfig } from '../../../lib/config.js';
import { createLogger } from '../../../lib/log.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { RecordingAdapter } from './recording-adapter.js';
import { freePort, waitUntil } from '../../support/wait.js';

const OWNER = '1001';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});


async function startBridge(rt: TestRuntime, adapter: RecordingAdapter) {
  const config = loadBridgeConfig({ TETHER_STATE_DIR: rt.stateDir, TETHER_RUNTIME_URL: rt.url, TETHER_PROGRESS: 'off' });
  const logger = createLogger('bridge', { level: 'error', write: () => undefined });
  const bridge = await runBridge(adapter, { config, allowlist: [OWNER], logger, identity: 'test', timing: { outboxPollMs: 100, runtimeRetryMaxMs: 150 } });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await bridge.stop();
  };
  cleanups.push(stop);
  return { stop, health: () => bridge.health() };
}


function storedCursor(rt: TestRuntime): number {
  const store = BridgeStore.open(rt.stateDir, 'telegram');
  try {
    return store.eventCursor();
  } finally {
    store.close();
  }
}

describe('delivery: event cursor', () => {
  it('is written through the last event seen when the bridge stops, and a restart repeats no reply', async () => {
    const rt = await startTestRuntime({ TETHER_PORT: String(await freePort()) });
    cleanups.push(() => rt.stop());
    const adapter = new RecordingAdapter();
    const first = await startBridge(rt, adapter);
    await adapter.say({ user: OWNER }, 'hello', 'm:1');
    await adapter.waitForText(OWNER, 'echo: hello');
    // A thread that is not the bridge's: its events yield nothing, so only the deferred cursor moves.
    const other = (await rt.api('POST', '/v1/threads', { title: 'not a chat' })).body as { id: string };
    const newest = ((await rt.api('GET', `/v1/threads/${other.id}`)).body as { last_seq: number }).last_seq;
    await waitUntil(() => Number(first.health().eventCursor ?? 0) >= newest);
    await first.stop();
    expect(storedCursor(rt)).toBe(newest);

    const again = new RecordingAdapter();
    const second = await startBridge(rt, again);
    await again.say({ user: OWNER }, 'second', 'm:2');
    await again.waitForText(OWNER, 'echo: second');
    expect(again.textsTo(OWNER)).toEqual(['echo: second']);
    await second.stop();
  });
});
