// The Feishu bridge end to end in one process: fake open platform ↔ real SDK ↔ adapter ↔ core ↔ real runtime (fake model).
import { afterEach, describe, expect, it } from 'vitest';
import { runBridge, type RunningBridge } from '../../../bridges/core/bridge.js';
import type { BridgeTiming } from '../../../bridges/core/context.js';
import { createFeishuAdapter, type FeishuAdapter } from '../../../bridges/feishu/adapter.js';
import type { ConnectionTiming } from '../../../bridges/feishu/connection.js';
import { loadFeishuConfig } from '../../../lib/config.js';
import { createLogger } from '../../../lib/log.js';
import { startFakeFeishu, type FakeChat, type FakeFeishu, type FakeUser } from '../../fakes/feishu-open-platform.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { freePort } from '../../support/wait.js';

const FAST: Partial<BridgeTiming> = { queuedNoticeMs: 60_000, runtimeRetryMaxMs: 150, outboxPollMs: 100, sendRetryMaxMs: 300, typingIntervalMs: 200 };
const FAST_WS: Partial<ConnectionTiming> = { pingTimeoutS: 1, silenceMs: 4_000, tickMs: 200, restartMinMs: 100, restartMaxMs: 1_000 };

export interface Stack {
  rt: TestRuntime;
  fake: FakeFeishu;
  adapter: FeishuAdapter;
  bridge: RunningBridge;
  logs: string[];
  alice: FakeUser;
  aliceChat: FakeChat;
  threads(): Promise<Array<{ id: string; metadata: Record<string, string> }>>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function stack(o: { env?: Record<string, string>; allowlist?: (s: { alice: FakeUser }) => string[]; timing?: Partial<BridgeTiming>; ws?: Partial<ConnectionTiming>; fake?: Parameters<typeof startFakeFeishu>[0] } = {}): Promise<Stack> {
  const port = await freePort();
  const rt = await startTestRuntime({ TETHER_PORT: String(port), ...o.env });
  cleanups.push(() => rt.stop());
  const fake = await startFakeFeishu(o.fake);
  cleanups.push(() => fake.close());
  const alice = fake.user('Alice');
  const aliceChat = fake.p2pChat(alice);
  const logs: string[] = [];
  const logger = createLogger('bridge', { level: 'debug', write: (l) => logs.push(l) });
  const config = loadFeishuConfig({
    FEISHU_APP_ID: fake.appId,
    FEISHU_APP_SECRET: fake.appSecret,
    FEISHU_DOMAIN: fake.url,
    FEISHU_ALLOWLIST: (o.allowlist?.({ alice }) ?? [alice.openId]).join(','),
    TETHER_STATE_DIR: rt.stateDir,
    TETHER_RUNTIME_URL: rt.url,
    TETHER_TOKEN: rt.token,
    TETHER_PROGRESS: 'off',
  });
  const adapter = createFeishuAdapter(config, logger, { connection: { ...FAST_WS, ...o.ws }, restTimeoutMs: 2_000 });
  const bridge = await runBridge(adapter, { config, allowlist: config.allowlist, logger, identity: config.appId, timing: { ...FAST, ...o.timing } });
  cleanups.push(() => bridge.stop());
  await fake.waitFor(() => fake.openConnections().length === 1, 10_000, 'the long connection');
  return {
    rt,
    fake,
    adapter,
    bridge,
    logs,
    alice,
    aliceChat,
    async threads() {
      return (await rt.api('GET', '/v1/threads?metadata.platform=feishu')).body.threads;
    },
  };
}

const texts = (fake: FakeFeishu, chat: FakeChat, thread?: string) => fake.sent(chat, thread !== undefined ? { thread } : {}).map((m) => m.text);

describe('feishu bridge end to end', () => {
  it('an allowlisted open id gets the reply, quoting its message, once; the ack left before the turn ran', async () => {
    const s = await stack();
    const { eventId, message } = s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'hello' });
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('echo: hello'), 15_000, 'the reply');
    expect(texts(s.fake, s.aliceChat)).toEqual(['echo: hello']);
    const [reply] = s.fake.sent(s.aliceChat);
    expect(reply).toMatchObject({ via: 'reply', parentId: message.messageId, msgType: 'text' });
    expect(reply!.uuid).toMatch(/^[0-9a-f]{32}$/);
    const acks = s.fake.acksOf(eventId);
    expect(acks.map((a) => a.code)).toEqual([200]);
    expect(acks[0]!.latencyMs).toBeLessThan(1000);
    expect((await s.threads()).map((t) => t.metadata.conversation)).toEqual([s.aliceChat.chatId]);
  });
});
