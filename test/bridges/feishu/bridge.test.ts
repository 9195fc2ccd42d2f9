// The Feishu bridge end to end in one process: fake open platform ↔ real SDK ↔ adapter ↔ core ↔ real runtime (fake model).
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runBridge, type RunningBridge } from '../../../bridges/core/bridge.js';
import type { BridgeTiming } from '../../../bridges/core/context.js';
import { createFeishuAdapter, type FeishuAdapter } from '../../../bridges/feishu/adapter.js';
import type { ConnectionTiming } from '../../../bridges/feishu/connection.js';
import { loadFeishuConfig } from '../../../lib/config.js';
import { createLogger } from '../../../lib/log.js';
import { unsupportedMessageText } from '../../../bridges/core/inbox.js';
import { FEISHU_TEXT_LIMIT, TYPING_EMOJI } from '../../../bridges/feishu/adapter.js';
import { BODY_LIMIT_BYTES, FAULTS, FEISHU_CODES, startFakeFeishu, type FakeChat, type FakeFeishu, type FakeUser } from '../../fakes/feishu-open-platform.js';
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

  it('a stranger gets their open id and a request code once, and nothing reaches the runtime', async () => {
    const s = await stack();
    const bob = s.fake.user('Bob');
    const bobChat = s.fake.p2pChat(bob);
    s.fake.pushMessage({ chat: bobChat, from: bob, text: 'let me in' });
    s.fake.pushMessage({ chat: bobChat, from: bob, text: 'please' });
    await s.fake.waitFor(() => s.fake.sent(bobChat).length === 1, 15_000, 'the answer to the stranger');
    // The owner's reply afterwards proves the stranger's second message was handled too.
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'marker' });
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('echo: marker'), 15_000);
    const said = texts(s.fake, bobChat);
    expect(said).toHaveLength(1);
    expect(said[0]).toContain(bob.openId);
    expect(said[0]).toMatch(/request code: [2-9A-HJ-NP-Z]{8}/);
    expect(s.rt.model.requests.map((r) => JSON.stringify(r.body)).some((b) => b.includes('let me in') || b.includes('please'))).toBe(false);
  });

  it('the same event pushed twice, and the same message under a new event id, make one turn and one reply; every push is acked', async () => {
    const s = await stack();
    const { eventId, message } = s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: '!slow 50 only once' });
    await s.fake.waitForAck(eventId);
    s.fake.rePush(eventId);
    await s.fake.waitForAck(eventId, 5_000, 1);
    // Feishu may also hand the same message out under another event id (both versions of the event subscribed).
    const again = s.fake.pushEvent('im.message.receive_v1', s.fake.pushes().find((p) => p.eventId === eventId)!.envelope.event);
    await s.fake.waitForAck(again.header.event_id);
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('only once'), 15_000, 'the reply');
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'next' });
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('echo: next'), 15_000);
    expect(texts(s.fake, s.aliceChat)).toEqual(['only once', 'echo: next']);
    expect(s.fake.acks().every((a) => a.code === 200)).toBe(true);
    const [thread] = await s.threads();
    const turns: { input: string }[] = (await s.rt.api('GET', `/v1/threads/${thread!.id}`)).body.turns;
    expect(turns.map((t) => t.input)).toEqual(['!slow 50 only once', 'next']);
    expect(message.messageId).toMatch(/^om_/);
  });

  it('an event Feishu re-pushes for want of an ack (the runtime down meanwhile) still makes one turn', async () => {
    const s = await stack({ fake: { redeliverAfterMs: 300 } });
    await s.rt.stopRuntime();
    const { eventId } = s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'while down' });
    const ack = await s.fake.waitForAck(eventId);
    expect(ack.code).toBe(200);
    expect(ack.latencyMs).toBeLessThan(1000);
    expect(s.fake.pendingRedeliveries()).toBe(0);
    await s.rt.restart();
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('echo: while down'), 20_000, 'the reply once the runtime is back');
    expect(texts(s.fake, s.aliceChat).filter((t) => t === 'echo: while down')).toHaveLength(1);
  });

  it('a long reply arrives complete, in order, in chunks within the limit, every send with its own uuid and a body under 150 KB', async () => {
    const s = await stack();
    // Emoji are 2 UTF-16 units and 4 UTF-8 bytes each, quotes and line breaks double when escaped twice.
    const paragraph = (i: number) => `Paragraph ${i}: ` + '"quoted" 😀 text\n'.repeat(40);
    const long = Array.from({ length: 62 }, (_, i) => paragraph(i + 1)).join('\n\n');
    expect([...long].length).toBeGreaterThan(2 * FEISHU_TEXT_LIMIT);
    s.rt.model.enqueue({ chunks: long.match(/[\s\S]{1,2000}/gu)! });
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'write a lot' });
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).join('').replace(/\s+/g, '').length >= long.replace(/\s+/g, '').length, 30_000, 'every chunk');
    const sent = s.fake.sent(s.aliceChat);
    expect(sent.length).toBeGreaterThanOrEqual(3);
    for (const m of sent) expect([...m.text].length).toBeLessThanOrEqual(FEISHU_TEXT_LIMIT);
    expect(sent.map((m) => m.text).join('').replace(/\s+/g, '')).toBe(long.replace(/\s+/g, ''));
    expect(new Set(sent.map((m) => m.uuid)).size).toBe(sent.length);
    expect(sent.every((m) => /^[0-9a-f]{32}$/.test(m.uuid ?? ''))).toBe(true);
    // Only the first chunk quotes the person's message; the rest follow plainly, in the same chat.
    expect(sent.map((m) => m.via)).toEqual(['reply', ...sent.slice(1).map(() => 'create')]);
    const calls = [...s.fake.callsOf('message.reply'), ...s.fake.callsOf('message.create')];
    expect(calls.every((c) => c.status === 200)).toBe(true);
    expect(Math.max(...calls.map((c) => Buffer.byteLength(JSON.stringify(c.body))))).toBeLessThan(BODY_LIMIT_BYTES.text!);
  });

  it('a thread is its own conversation, answered in the thread; a group message outside it is answered in the group', async () => {
    const s = await stack({ allowlist: ({ alice }) => [alice.openId, 'oc_placeholder'] });
    const group = s.fake.group('Team');
    await s.bridge.stop();
    // The group is allowed by its chat id, known only now: a new bridge on the same state.
    const s2 = await restartWith(s, { allowlist: [s.alice.openId, group.chatId] });
    const root = s2.fake.pushMessage({ chat: group, from: s.alice, text: 'in the group', mentions: [s.fake.bot] });
    await s.fake.waitFor(() => texts(s.fake, group).includes('echo: in the group'), 15_000, 'the group reply');
    const inThread = s.fake.pushMessage({ chat: group, from: s.alice, text: 'in the thread', mentions: [s.fake.bot], inThreadOf: root.message.messageId });
    const threadId = inThread.message.threadId!;
    expect(threadId).toMatch(/^omt_/);
    await s.fake.waitFor(() => texts(s.fake, group, threadId).includes('echo: in the thread'), 15_000, 'the thread reply');
    const threadReply = s.fake.sent(group, { thread: threadId }).find((m) => m.text === 'echo: in the thread')!;
    expect(threadReply).toMatchObject({ via: 'reply', replyInThread: true, rootId: root.message.messageId });
    const groupReply = s.fake.sent(group).find((m) => m.text === 'echo: in the group')!;
    expect(groupReply.threadId).toBeUndefined();
    expect(groupReply.replyInThread).toBe(false);
    const conversations = (await s.threads()).map((t) => t.metadata.conversation).sort();
    expect(conversations).toEqual([group.chatId, `${group.chatId}:${root.message.messageId}`].sort());
  });

  it('in a group only messages that mention the bot by open id become turns, the mention stripped, from allowed senders only (posts too)', async () => {
    const s = await stack();
    const group = s.fake.group('Team');
    const bob = s.fake.user('Bob');
    const other = s.fake.otherApp('Other Bot');
    const s2 = await restartWith(s, { allowlist: [s.alice.openId, group.chatId] });
    s2.fake.pushMessage({ chat: group, from: s.alice, text: 'chatter between people' });
    s2.fake.pushMessage({ chat: group, from: s.alice, text: 'hi @_user_1 look', mentions: [bob] });
    s2.fake.pushMessage({ chat: group, from: bob, text: 'from a stranger', mentions: [s.fake.bot] });
    s2.fake.pushMessage({ chat: group, from: other, text: 'from another app', mentions: [s.fake.bot] });
    s2.fake.pushMessage({ chat: group, from: s.alice, text: '@_user_1 ask @_user_2 about it', mentions: [s.fake.bot, bob] });
    s2.fake.pushMessage({ chat: group, from: s.alice, text: 'a rich post', messageType: 'post', mentions: [s.fake.bot], mentionsInContentOnly: true });
    await s.fake.waitFor(() => texts(s.fake, group).length === 2, 15_000, 'two replies');
    expect(texts(s.fake, group).sort()).toEqual(['echo: a rich post', 'echo: ask @Bob about it']);
    const prompts = s.rt.model.requests.map((r) => JSON.stringify(r.body));
    for (const never of ['chatter between', 'look', 'from a stranger', 'from another app']) expect(prompts.some((p) => p.includes(never))).toBe(false);
  });

  it('an image, a file and a sticker get the one-line answer; the bot\'s own messages are ignored', async () => {
    const s = await stack();
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, messageType: 'image' });
    await s.fake.waitFor(() => s.fake.sent(s.aliceChat).length === 1, 15_000);
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, messageType: 'file' });
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, messageType: 'sticker' });
    s.fake.pushMessage({ chat: s.aliceChat, from: s.fake.bot, text: 'my own words' });
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'marker' });
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('echo: marker'), 15_000);
    expect(texts(s.fake, s.aliceChat)).toEqual([unsupportedMessageText('an image'), unsupportedMessageText('a file'), unsupportedMessageText('a sticker'), 'echo: marker']);
    expect(s.rt.model.requests).toHaveLength(1);
  });

  it('a dropped socket and a silent one (no pongs) are both recovered from, and the message sent meanwhile is answered', async () => {
    const s = await stack();
    s.fake.terminateConnections();
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'after a drop' });
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('echo: after a drop'), 15_000, 'the reply after the drop');
    const before = s.fake.connections().length;
    s.fake.setPongs(false);
    // The SDK's own watchdog (pingTimeout 1 s below the fake's 2 s PingInterval) cuts the silent socket.
    await s.fake.waitFor(() => s.fake.connections().length > before, 15_000, 'a new connection');
    s.fake.setPongs(true);
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'after silence' });
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('echo: after silence'), 15_000, 'the reply after the silence');
    expect(s.fake.openConnections()).toHaveLength(1);
  });

  it('our own watchdog replaces a client that hears nothing, even with the SDK\'s watchdog off', async () => {
    const s = await stack({ ws: { pingTimeoutS: 0, silenceMs: 2_500 } });
    s.fake.setPongs(false);
    await s.fake.waitFor(() => (s.adapter.health!() as { restarts: number }).restarts >= 1, 15_000, 'a restart by the supervisor');
    expect((s.adapter.health!() as { lastRestartReason?: string }).lastRestartReason).toMatch(/nothing from Feishu/);
    s.fake.setPongs(true);
    await s.fake.waitFor(() => s.fake.openConnections().length === 1 && s.fake.connections().length >= 2, 15_000);
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'heard again' });
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('echo: heard again'), 15_000);
    expect(s.logs.join('\n')).toContain('restarting the long connection');
  });

  it('an endpoint code the SDK treats as fatal (it stops for good) is restarted by our supervisor', async () => {
    const s = await stack();
    s.fake.fail({ route: 'ws.endpoint', ...FAULTS.endpointCode(FEISHU_CODES.systemBusy) });
    s.fake.terminateConnections();
    await s.fake.waitFor(() => (s.adapter.health!() as { restarts: number }).restarts >= 1, 15_000, 'a restart by the supervisor');
    expect((s.adapter.health!() as { lastRestartReason?: string }).lastRestartReason).toMatch(/gave up|failed/);
    await s.fake.waitFor(() => s.fake.openConnections().length === 1, 15_000, 'the connection back');
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'back again' });
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('echo: back again'), 15_000);
    expect(s.fake.callsOf('ws.endpoint').map((c) => c.code)).toEqual([0, FEISHU_CODES.systemBusy.code, 0]);
  });

  it('an expired tenant token is dropped and fetched again, in both of the SDK\'s shapes, and each reply goes once', async () => {
    const s = await stack();
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'one' });
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('echo: one'), 15_000);
    s.fake.invalidateToken();
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'two' });
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('echo: two'), 15_000);
    s.fake.invalidateToken({ status: 200 });
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'three' });
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('echo: three'), 15_000);
    expect(texts(s.fake, s.aliceChat)).toEqual(['echo: one', 'echo: two', 'echo: three']);
    expect(s.fake.tokenCalls()).toBe(3);
    // Whichever call met the dead token first (the typing reaction or the reply) fetched the next one.
    expect(s.fake.calls.filter((c) => c.code === FEISHU_CODES.invalidTenantToken.code)).toHaveLength(2);
  });

  it('a 99991400 is waited out for as long as x-ogw-ratelimit-reset says, then the same message goes once', async () => {
    const s = await stack();
    s.fake.fail({ route: 'message.reply', ...FAULTS.rateLimited(1) });
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'patience' });
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('echo: patience'), 15_000);
    const replies = s.fake.callsOf('message.reply');
    expect(replies.map((c) => c.status)).toEqual([429, 200]);
    expect(replies[1]!.body).toEqual(replies[0]!.body);
    expect(replies[1]!.at - replies[0]!.at).toBeGreaterThanOrEqual(950);
    expect(texts(s.fake, s.aliceChat)).toEqual(['echo: patience']);
  });

  it('a send Feishu never answers times out and goes again with the same uuid, once', async () => {
    const s = await stack();
    s.fake.fail({ route: 'message.reply', ...FAULTS.hang() });
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'hello?' });
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('echo: hello?'), 20_000, 'the reply after the timeout');
    const replies = s.fake.callsOf('message.reply');
    expect(replies.map((c) => c.faulted)).toEqual([true, false]);
    expect(replies[1]!.body.uuid).toBe(replies[0]!.body.uuid);
    expect(replies[1]!.at - replies[0]!.at).toBeGreaterThanOrEqual(1900);
    expect(texts(s.fake, s.aliceChat)).toEqual(['echo: hello?']);
  });

  it('a 230020 (the chat\'s own limit) holds that chat a moment and the reply still goes once', async () => {
    const s = await stack();
    s.fake.fail({ route: 'message.reply', ...FAULTS.chatRateLimited() });
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'limited' });
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('echo: limited'), 15_000);
    const replies = s.fake.callsOf('message.reply');
    expect(replies.map((c) => c.code)).toEqual([FEISHU_CODES.chatRateLimited.code, 0]);
    expect(replies[1]!.at - replies[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('a recalled (230011) or deleted (231003) message is not quoted: the reply goes to the same chat as a plain message', async () => {
    const s = await stack();
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: '!slow 150 answer despite the recall' });
    const [first] = s.fake.messages(s.aliceChat);
    await s.rt.model.waitForRequests(1, 10_000);
    s.fake.userRecalls(first!.messageId);
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('answer despite the recall'), 15_000);
    s.fake.fail({ route: 'message.reply', ...FAULTS.replyTargetMissing() });
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'gone target' });
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('echo: gone target'), 15_000);
    expect(s.fake.callsOf('message.reply').map((c) => c.code)).toEqual([FEISHU_CODES.messageRecalled.code, FEISHU_CODES.messageNotFound.code]);
    const creates = s.fake.callsOf('message.create');
    expect(creates.map((c) => [c.query.receive_id_type, c.body.receive_id])).toEqual([
      ['chat_id', s.aliceChat.chatId],
      ['chat_id', s.aliceChat.chatId],
    ]);
    expect(texts(s.fake, s.aliceChat)).toEqual(['answer despite the recall', 'echo: gone target']);
  });

  it('a 230025 splits the message smaller, and nothing is lost or doubled', async () => {
    const s = await stack();
    s.fake.fail({ route: 'message.reply', code: FEISHU_CODES.contentTooLong });
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'one two three four five six seven eight nine ten' });
    const want = 'echo: one two three four five six seven eight nine ten';
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).join(' ').replace(/\s+/g, ' ') === want, 15_000, 'the split reply');
    expect(texts(s.fake, s.aliceChat).length).toBeGreaterThanOrEqual(2);
    expect(s.fake.callsOf('message.reply').map((c) => c.code)).toEqual([FEISHU_CODES.contentTooLong.code, 0]);
  });

  it('a chat the bot was removed from (230002) drops its replies with the reason logged; other chats go on', async () => {
    const s = await stack();
    const group = s.fake.group('Gone');
    const s2 = await restartWith(s, { allowlist: [s.alice.openId, group.chatId] });
    s2.fake.pushMessage({ chat: group, from: s.alice, text: '!slow 100 never arrives', mentions: [s.fake.bot] });
    await s.rt.model.waitForRequests(1, 10_000);
    s.fake.removeBot(group);
    await s.fake.waitFor(() => s2.logs.some((l) => l.includes('conversation is gone') && l.includes('230002')), 15_000, 'the gone log line');
    s2.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'still here' });
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('echo: still here'), 15_000);
    expect(s.fake.sent(group)).toEqual([]);
  });

  it('shows a reaction on the person\'s message while the turn runs and takes it off with the reply: three calls for a short turn', async () => {
    const s = await stack();
    const calls = () => s.fake.calls.filter((c) => c.route !== 'ws.endpoint' && c.route !== 'auth.tenantAccessToken' && c.route !== 'bot.info').length;
    const before = calls();
    const { message } = s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: '!slow 300 thinking hard' });
    const reaction = await s.fake.waitFor(() => s.fake.message(message.messageId)!.reactions.find((r) => !r.deleted), 10_000, 'the typing reaction');
    expect(reaction.emojiType).toBe(TYPING_EMOJI);
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).includes('thinking hard'), 15_000);
    await s.fake.waitFor(() => s.fake.message(message.messageId)!.reactions.every((r) => r.deleted), 10_000, 'the reaction removed');
    expect(s.fake.message(message.messageId)!.reactions).toHaveLength(1);
    expect(calls() - before).toBe(3);
  });

  it('the ack leaves well inside 3 s while the runtime takes requests and never answers them', async () => {
    const sockets = new Set<Socket>();
    const hung = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    cleanups.push(async () => void hung.close());
    const s = await stack();
    await restartWith(s, { runtimeUrl: `http://127.0.0.1:${(hung.address() as { port: number }).port}` });
    // Before the bridge stops (cleanups run last first): its requests to the hung runtime then fail at once.
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
    });
    const { eventId } = s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: 'are you there' });
    const ack = await s.fake.waitForAck(eventId);
    expect(ack.code).toBe(200);
    expect(ack.latencyMs).toBeLessThan(1000);
  });

  it('an approval card in a group: a member who is not allowed does nothing, the owner\'s press decides once, the card then says who', async () => {
    const s = await stack({ env: { TETHER_APPROVAL: 'ask' } });
    const group = s.fake.group('Team');
    const bob = s.fake.user('Bob');
    await restartWith(s, { allowlist: [s.alice.openId, group.chatId] });
    s.fake.pushMessage({ chat: group, from: s.alice, text: '!tool shell {"command":"echo approved-run"}', mentions: [s.fake.bot] });
    const card = await s.fake.waitFor(() => s.fake.sent(group).find((m) => m.msgType === 'interactive'), 15_000, 'the approval card');
    expect(card.text).toContain('echo approved-run');
    expect(card.text).toContain('[Approve]');

    const byBob = s.fake.pressButton({ messageId: card.messageId, by: bob, label: 'Approve' });
    const bobAck = await s.fake.waitForAck(byBob.eventId);
    expect(bobAck.data).toMatchObject({ toast: { content: expect.stringMatching(/not allowed/) } });
    expect(s.rt.model.requests.filter((r) => JSON.stringify(r.body).includes('"role":"tool"'))).toHaveLength(0);

    const byAlice = s.fake.pressButton({ messageId: card.messageId, by: s.alice, label: 'Approve' });
    const aliceAck = await s.fake.waitForAck(byAlice.eventId);
    expect(aliceAck.latencyMs).toBeLessThan(3000);
    expect(aliceAck.data).toMatchObject({ toast: { type: 'success', content: 'Approved.' } });
    s.fake.rePush(byAlice.eventId);
    await s.fake.waitForAck(byAlice.eventId, 5_000, 1);
    await s.fake.waitFor(() => texts(s.fake, group).some((t) => t.startsWith('done:')), 15_000, 'the tool result');
    const decided = await s.fake.waitFor(() => {
      const m = s.fake.message(card.messageId)!;
      return m.history.length > 1 && m;
    }, 10_000, 'the card updated');
    expect(decided.text).not.toContain('[Approve]');
    expect(decided.text).toContain('approved');
    expect(JSON.stringify(JSON.parse(decided.content).elements)).toContain(JSON.stringify(`Decided by <at id="${s.alice.openId}"></at>`));
    expect(texts(s.fake, group).filter((t) => t.startsWith('done:'))).toHaveLength(1);
    expect(s.rt.model.requests.filter((r) => JSON.stringify(r.body).includes('"role":"tool"'))).toHaveLength(1);
  });

  it('a press while the runtime is down is acked inside 3 s with a toast, and decided once the runtime is back', async () => {
    const s = await stack({ env: { TETHER_APPROVAL: 'ask' } });
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: '!tool shell {"command":"echo later-run"}' });
    const card = await s.fake.waitFor(() => s.fake.sent(s.aliceChat).find((m) => m.msgType === 'interactive'), 15_000, 'the approval card');
    await s.rt.stopRuntime();
    const press = s.fake.pressButton({ messageId: card.messageId, by: s.alice, label: 'Approve' });
    const ack = await s.fake.waitForAck(press.eventId);
    expect(ack.latencyMs).toBeLessThan(3000);
    expect(ack.data).toMatchObject({ toast: { content: expect.any(String) } });
    await s.rt.restart();
    await s.fake.waitFor(() => texts(s.fake, s.aliceChat).some((t) => t.startsWith('done:')), 20_000, 'the tool result once the runtime is back');
    expect(s.rt.model.requests.filter((r) => JSON.stringify(r.body).includes('"role":"tool"'))).toHaveLength(1);
  });

  it('/deny in chat decides an approval too, and the card loses its buttons', async () => {
    const s = await stack({ env: { TETHER_APPROVAL: 'ask' } });
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: '!tool shell {"command":"echo denied-run"}' });
    const card = await s.fake.waitFor(() => s.fake.sent(s.aliceChat).find((m) => m.msgType === 'interactive'), 15_000, 'the approval card');
    s.fake.pushMessage({ chat: s.aliceChat, from: s.alice, text: '/deny' });
    await s.fake.waitFor(() => s.fake.message(card.messageId)!.history.length > 1, 15_000, 'the card updated');
    expect(s.fake.message(card.messageId)!.text).toContain('denied');
    expect(s.fake.message(card.messageId)!.text).not.toContain('[Deny]');
  });
});

/** Stops the stack's bridge and starts another on the same state dir and fake with other settings. */
async function restartWith(s: Stack, o: { allowlist?: string[]; runtimeUrl?: string }): Promise<Stack> {
  await s.bridge.stop();
  const logs: string[] = [];
  const logger = createLogger('bridge', { level: 'debug', write: (l) => logs.push(l) });
  const config = loadFeishuConfig({
    FEISHU_APP_ID: s.fake.appId,
    FEISHU_APP_SECRET: s.fake.appSecret,
    FEISHU_DOMAIN: s.fake.url,
    FEISHU_ALLOWLIST: (o.allowlist ?? [s.alice.openId]).join(','),
    TETHER_STATE_DIR: s.rt.stateDir,
    TETHER_RUNTIME_URL: o.runtimeUrl ?? s.rt.url,
    TETHER_TOKEN: s.rt.token,
    TETHER_PROGRESS: 'off',
  });
  const adapter = createFeishuAdapter(config, logger, { connection: FAST_WS, restTimeoutMs: 2_000 });
  const bridge = await runBridge(adapter, { config, allowlist: config.allowlist, logger, identity: config.appId, timing: FAST });
  cleanups.push(() => bridge.stop());
  await s.fake.waitFor(() => s.fake.openConnections().length === 1, 10_000, 'the long connection');
  Object.assign(s, { adapter, bridge, logs });
  return s;
}
