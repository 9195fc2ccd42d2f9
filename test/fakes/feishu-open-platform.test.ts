// The fake Feishu behaves like the open platform where the bridge depends on it, checked with the real @larksuiteoapi/node-sdk.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as lark from '@larksuiteoapi/node-sdk';
import { BODY_LIMIT_BYTES, FAKE_APP_ID, FAULTS, FEISHU_CODES, MAX_EDITS, startFakeFeishu, type FakeFeishu, type FakeUser } from './feishu-open-platform.js';

let fake: FakeFeishu;
let logs: { level: string; msg: string }[];
const running: { close: () => void }[] = [];

// The SDK's own logs are recorded, not printed; a test can read them (e.g. what it logged on a bad frame).
const recordingLogger = {
  error: (...m: unknown[]) => void logs.push({ level: 'error', msg: m.map(String).join(' ') }),
  warn: (...m: unknown[]) => void logs.push({ level: 'warn', msg: m.map(String).join(' ') }),
  info: (...m: unknown[]) => void logs.push({ level: 'info', msg: m.map(String).join(' ') }),
  debug: (...m: unknown[]) => void logs.push({ level: 'debug', msg: m.map(String).join(' ') }),
  trace: (...m: unknown[]) => void logs.push({ level: 'trace', msg: m.map(String).join(' ') }),
};

beforeEach(async () => {
  logs = [];
  fake = await startFakeFeishu();
});

afterEach(async () => {
  for (const r of running.splice(0)) r.close();
  await fake.close();
});

/** A Client with its own token cache: the SDK's default cache is process-global (notes §6.4). */
function newClient(options: { appSecret?: string } = {}): lark.Client {
  return new lark.Client({
    appId: fake.appId,
    appSecret: options.appSecret ?? fake.appSecret,
    domain: fake.url,
    cache: new lark.DefaultCache(),
    logger: recordingLogger,
    loggerLevel: lark.LoggerLevel.debug,
  });
}

interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (v: T) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

type Handler = (data: Record<string, unknown>) => unknown;

/** Starts a real WSClient against the fake with `handlers`; resolves once the SDK says it is ready. */
async function startWsClient(handlers: Record<string, Handler>, extra: Partial<ConstructorParameters<typeof lark.WSClient>[0]> = {}) {
  const states = { ready: deferred(), errors: [] as Error[], reconnecting: 0, reconnected: 0 };
  const ws = new lark.WSClient({
    appId: fake.appId,
    appSecret: fake.appSecret,
    domain: fake.url,
    logger: recordingLogger,
    loggerLevel: lark.LoggerLevel.debug,
    onReady: () => states.ready.resolve(),
    onError: (err: Error) => void states.errors.push(err),
    onReconnecting: () => void states.reconnecting++,
    onReconnected: () => void states.reconnected++,
    ...extra,
  });
  running.push({ close: () => ws.close({ force: true }) });
  const dispatcher = new lark.EventDispatcher({ logger: recordingLogger, loggerLevel: lark.LoggerLevel.debug }).register(handlers as never);
  await ws.start({ eventDispatcher: dispatcher });
  return { ws, states };
}

/** The rejection of `p` (an AxiosError for non-2xx answers), or a failure if it resolved. */
async function rejectionOf(p: Promise<unknown>): Promise<{ message: string; code?: string; response?: { status: number; data: { code?: number; msg?: string }; headers: Record<string, string> } }> {
  try {
    await p;
  } catch (err) {
    return err as never;
  }
  throw new Error('expected the call to fail');
}

function textOf(content: string | undefined): string {
  return (JSON.parse(content ?? '{}') as { text?: string }).text ?? '';
}

describe('long connection with the real WSClient', () => {
  let alice: FakeUser;

  beforeEach(() => {
    alice = fake.user('Alice');
  });

  it('connects through the endpoint, receives a pushed message and acks it with {"code":200}', async () => {
    const received: Record<string, unknown>[] = [];
    const { states } = await startWsClient({ 'im.message.receive_v1': (d) => void received.push(d) });
    await states.ready.promise;
    expect(fake.callsOf('ws.endpoint')[0]?.body).toEqual({ AppID: fake.appId, AppSecret: fake.appSecret });
    expect(fake.openConnections()).toHaveLength(1);

    const { eventId, message } = fake.pushMessage({ chat: fake.p2pChat(alice), from: alice, text: 'hello "quoted"\nline' });
    const ack = await fake.waitForAck(eventId);

    expect(ack.code).toBe(200);
    expect(ack.headers).toMatchObject({ type: 'event', sum: '1', seq: '0' });
    expect(ack.bizRt).toMatch(/^-?\d+$/);
    expect(ack.latencyMs).toBeLessThan(3000);
    expect(received).toHaveLength(1);
    const data = received[0] as { event_id: string; event_type: string; sender: { sender_type: string; sender_id: { open_id: string } }; message: Record<string, string> };
    expect(data.event_id).toBe(eventId);
    expect(data.event_type).toBe('im.message.receive_v1');
    expect(data.sender).toMatchObject({ sender_type: 'user', sender_id: { open_id: alice.openId } });
    expect(data.message).toMatchObject({ message_id: message.messageId, chat_type: 'p2p', message_type: 'text', chat_id: message.chatId });
    expect(textOf(data.message.content)).toBe('hello "quoted"\nline');
    // The URL carries secrets a bridge must keep out of its logs (the SDK logs it only at debug level).
    const secrets = new URL(fake.openConnections()[0]!.url, fake.url).searchParams;
    expect(secrets.get('access_key')).toMatch(/^[0-9a-f]{32}$/);
    expect(secrets.get('ticket')).toMatch(/^[0-9a-f]{24}$/);
    expect(logs.filter((l) => l.msg.includes(secrets.get('ticket')!)).map((l) => l.level)).toEqual(['debug']);
    // The SDK's pings carried the service id of the URL, and every frame it sent was understood.
    expect(fake.openConnections()[0]!.pongs).toBeGreaterThanOrEqual(1);
    expect(fake.strayFrames()).toEqual([]);
  });

  it('acks only once the handler settles: a slow handler delays the ack by its own time', async () => {
    const release = deferred();
    const started = deferred();
    fake.setClientConfig({ PingInterval: 0.05 });
    await startWsClient({
      'im.message.receive_v1': async () => {
        started.resolve();
        await release.promise;
      },
    }).then((c) => c.states.ready.promise);
    const { eventId } = fake.pushMessage({ chat: fake.p2pChat(alice), from: alice, text: 'slow' });
    await started.promise;
    // Pings sent after the handler started travel behind any ack the SDK had sent before them.
    const pings = fake.openConnections()[0]!.pings;
    await fake.waitFor(() => fake.openConnections()[0]!.pings > pings + 1, 5000, 'two more pings');
    expect(fake.acksOf(eventId)).toEqual([]);
    const heldFor = 300;
    await new Promise((r) => setTimeout(r, heldFor));
    release.resolve();
    const ack = await fake.waitForAck(eventId);
    expect(ack.code).toBe(200);
    expect(ack.latencyMs).toBeGreaterThanOrEqual(heldFor);
  });

  it('a throwing handler is acked with {"code":500}, and a handler return value comes back base64-decoded', async () => {
    await startWsClient({
      'im.message.receive_v1': () => {
        throw new Error('boom');
      },
      'card.action.trigger': () => ({ toast: { type: 'info', content: 'ok' } }),
    }).then((c) => c.states.ready.promise);
    const { eventId } = fake.pushMessage({ chat: fake.p2pChat(alice), from: alice, text: 'x' });
    expect((await fake.waitForAck(eventId)).code).toBe(500);
    const card = await sendCard(fake.p2pChat(alice).chatId);
    const pressed = fake.pressButton({ messageId: card, by: alice, label: 'Approve' });
    const ack = await fake.waitForAck(pressed.eventId);
    expect(ack).toMatchObject({ code: 200, data: { toast: { type: 'info', content: 'ok' } } });
  });

  it('runs the handler again for a re-push of the same event_id (the SDK does not dedupe)', async () => {
    const seen: string[] = [];
    await startWsClient({ 'im.message.receive_v1': (d) => void seen.push(d.event_id as string) }).then((c) => c.states.ready.promise);
    const { eventId } = fake.pushMessage({ chat: fake.p2pChat(alice), from: alice, text: 'twice' });
    await fake.waitForAck(eventId);
    fake.rePush(eventId);
    await fake.waitForAck(eventId, 5000, 1);
    expect(seen).toEqual([eventId, eventId]);
    expect(fake.pushes().map((p) => [p.eventId, p.attempt])).toEqual([
      [eventId, 1],
      [eventId, 2],
    ]);
    expect(fake.pushes()[0]!.frameMessageId).not.toBe(fake.pushes()[1]!.frameMessageId);
  });

  it('merges an event sent as 3 fragments out of order into one handler call, acked once', async () => {
    const texts: string[] = [];
    await startWsClient({ 'im.message.receive_v1': (d) => void texts.push(textOf((d.message as { content: string }).content)) }).then((c) => c.states.ready.promise);
    const long = 'fragmented '.repeat(50);
    const { eventId } = fake.pushMessage({ chat: fake.p2pChat(alice), from: alice, text: long, push: { fragments: 3, fragmentOrder: [2, 0, 1] } });
    const ack = await fake.waitForAck(eventId);
    expect(texts).toEqual([long]);
    expect(ack.headers.sum).toBe('3');
    expect(fake.acksOf(eventId)).toHaveLength(1);
  });

  it('answers pings with pongs carrying the ClientConfig, which the SDK adopts', async () => {
    // The endpoint says one ping a minute; the pong to the ping the SDK sends on open says 50 ms.
    fake.setClientConfig({ PingInterval: 60, ReconnectInterval: 1 });
    fake.setPongConfig({ PingInterval: 0.05, ReconnectInterval: 0.2 });
    const { ws, states } = await startWsClient({});
    await states.ready.promise;
    await fake.waitFor(() => fake.openConnections()[0]!.pongs >= 1, 5000, 'the first pong');
    // The SDK keeps the adopted values in private state (its next ping timer was armed before the pong came).
    const adopted = (key: string) => (ws as unknown as { wsConfig: { getWS(k: string): number } }).wsConfig.getWS(key);
    await fake.waitFor(() => adopted('pingInterval') === 50, 5000, 'the SDK to adopt the pong');
    expect(adopted('reconnectInterval')).toBe(200);
    const conn = fake.openConnections()[0]!;
    expect(conn.pongs).toBe(conn.pings);
  });

  it('with pongs off the socket goes silent, and a pingTimeout below PingInterval makes the SDK reconnect', async () => {
    fake.setClientConfig({ PingInterval: 0.3 });
    const { states } = await startWsClient({}, { wsConfig: { pingTimeout: 0.1 } });
    await states.ready.promise;
    fake.setPongs(false);
    await fake.waitFor(() => fake.connections().length >= 2 && fake.openConnections().length === 1, 5000, 'a new connection');
    expect(fake.connections()[0]!.closedAt).toBeDefined();
    expect(fake.connections()[0]!.pongs).toBeLessThan(fake.connections()[0]!.pings);
    expect(fake.endpointCalls()).toBeGreaterThanOrEqual(2);
    expect(logs.some((l) => l.msg.includes('no pong/inbound'))).toBe(true);
  });

  it('after a server-side terminate the SDK reconnects through the endpoint, and pushes reach the new connection', async () => {
    const seen: string[] = [];
    const { states } = await startWsClient({ 'im.message.receive_v1': (d) => void seen.push(d.event_id as string) });
    await states.ready.promise;
    fake.terminateConnections();
    await fake.waitFor(() => states.reconnected === 1, 5000, 'onReconnected');
    expect(states.reconnecting).toBe(1);
    expect(fake.endpointCalls()).toBe(2);
    expect(fake.connections().map((c) => c.closedAt !== undefined)).toEqual([true, false]);
    const { eventId } = fake.pushMessage({ chat: fake.p2pChat(alice), from: alice, text: 'after' });
    expect((await fake.waitForAck(eventId)).connectionId).toBe(fake.openConnections()[0]!.id);
  });

  it('keeps events pushed while no client is connected and delivers them to the next one', async () => {
    const { eventId } = fake.pushMessage({ chat: fake.p2pChat(alice), from: alice, text: 'while down' });
    expect(fake.waitingEvents()).toBe(1);
    const seen: string[] = [];
    await startWsClient({ 'im.message.receive_v1': (d) => void seen.push(d.event_id as string) });
    await fake.waitForAck(eventId);
    expect(seen).toEqual([eventId]);
    expect(fake.waitingEvents()).toBe(0);
  });

  it('gives a fatal endpoint code (1000040350, 1) to the SDK, which calls onError and stops', async () => {
    for (const code of [FEISHU_CODES.exceedConnLimit, FEISHU_CODES.systemBusy]) {
      const before = fake.endpointCalls();
      fake.fail({ route: 'ws.endpoint', ...FAULTS.endpointCode(code) });
      const { ws, states } = await startWsClient({});
      await fake.waitFor(() => states.errors.length === 1, 5000, 'onError');
      expect(states.errors[0]!.message).toContain(`code=${code.code}`);
      expect(ws.getConnectionStatus().state).toBe('failed');
      expect(fake.endpointCalls()).toBe(before + 1);
      expect(fake.openConnections()).toEqual([]);
    }
  });

  it('lets the SDK retry a retryable endpoint answer (1000040343, HTTP 5xx) until it connects', async () => {
    fake.setClientConfig({ ReconnectInterval: 0.05 });
    const { states } = await startWsClient({});
    await states.ready.promise;
    fake.fail({ route: 'ws.endpoint', ...FAULTS.endpointCode(FEISHU_CODES.endpointInternalError) });
    fake.fail({ route: 'ws.endpoint', ...FAULTS.serverError(503) });
    fake.terminateConnections();
    await fake.waitFor(() => states.reconnected === 1, 5000, 'onReconnected');
    expect(fake.callsOf('ws.endpoint').map((c) => [c.status, c.code])).toEqual([
      [200, 0],
      [200, FEISHU_CODES.endpointInternalError.code],
      [503, undefined],
      [200, 0],
    ]);
    expect(states.errors).toEqual([]);
  });

  it('refuses the endpoint with wrong credentials (514, fatal) and a socket URL it never issued', async () => {
    const { states } = await startWsClient({}, { appSecret: 'wrong' });
    await fake.waitFor(() => states.errors.length === 1, 5000, 'onError');
    expect(states.errors[0]!.message).toContain('code=514');
    const refused = await new Promise<number>((resolve) => {
      void import('ws').then(({ WebSocket }) => {
        const s = new WebSocket(`${fake.url.replace('http', 'ws')}/ws?device_id=1&service_id=42&ticket=forged`);
        s.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        s.on('error', () => undefined);
      });
    });
    expect(refused).toBe(403);
  });

  it('shows what the SDK does with an app id of the wrong shape: nothing at all', async () => {
    const ws = new lark.WSClient({ appId: 'cli_short', appSecret: fake.appSecret, domain: fake.url, logger: recordingLogger });
    running.push({ close: () => ws.close({ force: true }) });
    await ws.start({ eventDispatcher: new lark.EventDispatcher({ logger: recordingLogger }) });
    expect(fake.endpointCalls()).toBe(0);
    expect(logs.some((l) => l.level === 'error' && l.msg.includes('invalid appId'))).toBe(true);
    expect(FAKE_APP_ID).toMatch(/^cli_[0-9a-f]{16}$/);
  });

  it('drops a type=card frame without an ack, as the SDK does', async () => {
    const seen: unknown[] = [];
    await startWsClient({ 'im.message.receive_v1': (d) => void seen.push(d) }).then((c) => c.states.ready.promise);
    const card = fake.pushMessage({ chat: fake.p2pChat(alice), from: alice, text: 'as card frame', push: { frameType: 'card' } });
    const normal = fake.pushMessage({ chat: fake.p2pChat(alice), from: alice, text: 'as event frame' });
    await fake.waitForAck(normal.eventId);
    expect(fake.acksOf(card.eventId)).toEqual([]);
    expect(seen).toHaveLength(1);
  });

  it('counts one connection per running client and hands events to them in turn', async () => {
    const a: string[] = [];
    const b: string[] = [];
    await startWsClient({ 'im.message.receive_v1': (d) => void a.push(d.event_id as string) }).then((c) => c.states.ready.promise);
    await startWsClient({ 'im.message.receive_v1': (d) => void b.push(d.event_id as string) }).then((c) => c.states.ready.promise);
    await fake.waitFor(() => fake.openConnections().filter((c) => c.ready).length === 2, 5000, 'both connections ready');
    const chat = fake.p2pChat(alice);
    const events = [1, 2, 3, 4].map((i) => fake.pushMessage({ chat, from: alice, text: `m${i}` }).eventId);
    for (const e of events) await fake.waitForAck(e);
    expect(a).toHaveLength(2);
    expect(b).toHaveLength(2);
  });
});

describe('redelivery of unacked events', () => {
  it('re-pushes an event whose ack was not {"code":200} within the timeout, with the same event_id, until acked', async () => {
    await fake.close();
    fake = await startFakeFeishu({ redeliverAfterMs: 150 });
    const alice = fake.user('Alice');
    let calls = 0;
    await startWsClient({
      'im.message.receive_v1': () => {
        calls++;
        if (calls === 1) throw new Error('first try fails');
      },
    }).then((c) => c.states.ready.promise);
    const { eventId } = fake.pushMessage({ chat: fake.p2pChat(alice), from: alice, text: 'retry me' });
    await fake.waitForAck(eventId, 5000, 1);
    expect(fake.acksOf(eventId).map((a) => a.code)).toEqual([500, 200]);
    // Acked: no re-push is left scheduled.
    expect(fake.pendingRedeliveries()).toBe(0);
    expect(fake.pushes().filter((p) => p.eventId === eventId).map((p) => p.attempt)).toEqual([1, 2]);
  });

  it('re-pushes while a slow handler still holds the first push, as Feishu does after 3 s without an ack', async () => {
    await fake.close();
    fake = await startFakeFeishu({ redeliverAfterMs: 100, maxRedeliveries: 1 });
    const alice = fake.user('Alice');
    const release = deferred();
    let calls = 0;
    await startWsClient({
      'im.message.receive_v1': async () => {
        calls++;
        await release.promise;
      },
    }).then((c) => c.states.ready.promise);
    const { eventId } = fake.pushMessage({ chat: fake.p2pChat(alice), from: alice, text: 'slow' });
    await fake.waitFor(() => calls === 2, 5000, 'the re-pushed event in the handler');
    release.resolve();
    await fake.waitForAck(eventId, 5000, 1);
    expect(fake.pushes().map((p) => p.attempt)).toEqual([1, 2]);
  });
});

async function sendCard(chatId: string): Promise<string> {
  const client = newClient();
  const card = {
    config: { update_multi: true },
    header: { title: { tag: 'plain_text', content: 'Run ls?' } },
    elements: [
      { tag: 'div', text: { tag: 'lark_md', content: 'The agent wants to run `ls`.' } },
      {
        tag: 'action',
        actions: [
          { tag: 'button', text: { tag: 'plain_text', content: 'Approve' }, type: 'primary', value: { approval: 'ap_1', decision: 'approve' } },
          { tag: 'button', text: { tag: 'plain_text', content: 'Deny' }, type: 'danger', value: { approval: 'ap_1', decision: 'deny' } },
        ],
      },
    ],
  };
  const res = await client.im.v1.message.create({ params: { receive_id_type: 'chat_id' }, data: { receive_id: chatId, msg_type: 'interactive', content: JSON.stringify(card) } });
  return res.data!.message_id!;
}

describe('events a person makes', () => {
  it('builds group messages with mentions keyed @_user_N, thread messages with root_id/thread_id, non-text types and app senders', async () => {
    const got: Record<string, unknown>[] = [];
    await startWsClient({ 'im.message.receive_v1': (d) => void got.push(d) }).then((c) => c.states.ready.promise);
    const alice = fake.user('Alice');
    const bob = fake.user('Bob');
    const team = fake.group('Team');
    const root = fake.pushMessage({ chat: team, from: alice, text: 'please help', mentions: [fake.bot, bob] });
    const inThread = fake.pushMessage({ chat: team, from: bob, text: 'in thread', inThreadOf: root.message.messageId });
    const image = fake.pushMessage({ chat: team, from: alice, messageType: 'image' });
    const post = fake.pushMessage({ chat: team, from: alice, messageType: 'post', text: 'a post', mentions: [fake.bot], mentionsInContentOnly: true });
    const otherBot = fake.otherApp('Other Bot');
    const fromApp = fake.pushMessage({ chat: team, from: otherBot, text: 'beep' });
    for (const e of [root, inThread, image, post, fromApp]) await fake.waitForAck(e.eventId);

    const byId = (id: string) => got.find((g) => (g.message as { message_id: string }).message_id === id) as { message: Record<string, unknown>; sender: Record<string, unknown> };
    const r = byId(root.message.messageId);
    expect(r.message.chat_type).toBe('group');
    expect(textOf(r.message.content as string)).toBe('@_user_1 @_user_2 please help');
    expect(r.message.mentions).toEqual([
      { key: '@_user_1', id: { open_id: fake.bot.openId, union_id: '', user_id: '' }, name: fake.bot.name, tenant_key: fake.tenantKey },
      { key: '@_user_2', id: { open_id: bob.openId, union_id: bob.unionId, user_id: bob.userId }, name: 'Bob', tenant_key: fake.tenantKey },
    ]);
    expect(fake.message(root.message.messageId)?.text).toBe(`@${fake.bot.name} @Bob please help`);
    const t = byId(inThread.message.messageId);
    expect(t.message).toMatchObject({ root_id: root.message.messageId, parent_id: root.message.messageId, thread_id: expect.stringMatching(/^omt_/) });
    expect(JSON.parse(byId(image.message.messageId).message.content as string)).toEqual({ image_key: expect.stringMatching(/^img_v3_/) });
    const p = byId(post.message.messageId).message;
    expect(p.mentions).toBeUndefined();
    expect(JSON.parse(p.content as string)).toEqual({ title: '', content: [[{ tag: 'at', user_id: fake.bot.openId, user_name: fake.bot.name }, { tag: 'text', text: ' a post' }]] });
    expect(byId(fromApp.message.messageId).sender).toMatchObject({ sender_type: 'app', sender_id: { open_id: otherBot.openId } });
  });

  it('pushes card.action.trigger with the pressed button\'s value, operator and message', async () => {
    const got: Record<string, unknown>[] = [];
    await startWsClient({ 'card.action.trigger': (d) => void got.push(d) }).then((c) => c.states.ready.promise);
    const alice = fake.user('Alice');
    const chat = fake.p2pChat(alice);
    const card = await sendCard(chat.chatId);
    const { eventId } = fake.pressButton({ messageId: card, by: alice, label: 'Deny' });
    await fake.waitForAck(eventId);
    expect(got[0]).toMatchObject({
      event_type: 'card.action.trigger',
      event_id: eventId,
      operator: { open_id: alice.openId },
      action: { tag: 'button', value: { approval: 'ap_1', decision: 'deny' } },
      context: { open_message_id: card, open_chat_id: chat.chatId },
    });
    expect(() => fake.pressButton({ messageId: card, by: alice, label: 'Maybe' })).toThrow(/no button "Maybe".*Approve, Deny/);
  });
});

describe('REST with the real Client', () => {
  let alice: FakeUser;
  let client: lark.Client;

  beforeEach(() => {
    alice = fake.user('Alice');
    client = newClient();
  });

  it('fetches one tenant token (t-fake-1) for many calls and sends it as a Bearer', async () => {
    const info = (await client.request({ url: '/open-apis/bot/v3/info', method: 'GET' })) as { code: number; bot: { open_id: string; app_name: string } };
    expect(info).toMatchObject({ code: 0, bot: { open_id: fake.bot.openId, app_name: fake.bot.name } });
    await client.im.v1.chat.get({ path: { chat_id: fake.p2pChat(alice).chatId } });
    expect(fake.tokenCalls()).toBe(1);
    expect(fake.callsOf('auth.tenantAccessToken')[0]?.body).toEqual({ app_id: fake.appId, app_secret: fake.appSecret });
    expect(fake.callsOf('bot.info')[0]?.authorization).toBe('Bearer t-fake-1');
    expect(fake.callsOf('chat.get')[0]?.authorization).toBe('Bearer t-fake-1');
  });

  it('tells p2p, group and topic chats apart by chat_mode, and refuses an unknown chat with 232006', async () => {
    const modes = [];
    for (const chat of [fake.p2pChat(alice), fake.group('Team'), fake.group('Topics', 'topic')]) modes.push((await client.im.v1.chat.get({ path: { chat_id: chat.chatId } })).data?.chat_mode);
    expect(modes).toEqual(['p2p', 'group', 'topic']);
    const err = await rejectionOf(client.im.v1.chat.get({ path: { chat_id: 'oc_nope' } }));
    expect(err.response?.data.code).toBe(FEISHU_CODES.invalidChatId.code);
  });

  it('creates a message with receive_id_type in the query and shows its text as a person sees it', async () => {
    // Alice never wrote to the bot: a send by open id opens the p2p chat, as it does for a user in the app's scope.
    const res = await client.im.v1.message.create({
      params: { receive_id_type: 'open_id' },
      data: { receive_id: alice.openId, msg_type: 'text', content: JSON.stringify({ text: `hi <at user_id="${alice.openId}">Alice</at>, a "quote"\nand a line` }) },
    });
    const chat = fake.p2pChat(alice);
    expect(res.code).toBe(0);
    expect(res.data).toMatchObject({ chat_id: chat.chatId, msg_type: 'text', sender: { sender_type: 'app', id: fake.appId } });
    expect(fake.callsOf('message.create')[0]?.query).toEqual({ receive_id_type: 'open_id' });
    expect(fake.sent(chat).map((m) => m.text)).toEqual(['hi @Alice, a "quote"\nand a line']);
  });

  it('honours uuid: the same uuid within the hour is the same message, after the hour a new one', async () => {
    let clock = Date.UTC(2026, 0, 1);
    await fake.close();
    fake = await startFakeFeishu({ now: () => clock });
    alice = fake.user('Alice');
    client = newClient();
    const chat = fake.p2pChat(alice);
    const send = () => client.im.v1.message.create({ params: { receive_id_type: 'chat_id' }, data: { receive_id: chat.chatId, msg_type: 'text', content: JSON.stringify({ text: 'once' }), uuid: 'turn-1:0' } });
    const first = await send();
    clock += 59 * 60 * 1000;
    const again = await send();
    expect(again.data?.message_id).toBe(first.data?.message_id);
    expect(fake.sent(chat)).toHaveLength(1);
    clock += 2 * 60 * 1000;
    const later = await send();
    expect(later.data?.message_id).not.toBe(first.data?.message_id);
    expect(fake.sent(chat).map((m) => m.uuid)).toEqual(['turn-1:0', 'turn-1:0']);
    const tooLong = await rejectionOf(client.im.v1.message.create({ params: { receive_id_type: 'chat_id' }, data: { receive_id: chat.chatId, msg_type: 'text', content: '{"text":"x"}', uuid: 'u'.repeat(51) } }));
    expect(tooLong.response?.data.code).toBe(FEISHU_CODES.imInvalidParam.code);
  });

  it('replies: quoted in the chat, in a new thread with reply_in_thread, and in the thread when the target is in one; uuid honoured', async () => {
    const team = fake.group('Team');
    const q = fake.pushMessage({ chat: team, from: alice, text: 'question', mentions: [fake.bot] });
    const plain = await client.im.v1.message.reply({ path: { message_id: q.message.messageId }, data: { msg_type: 'text', content: JSON.stringify({ text: 'in the group' }) } });
    expect(plain.data).toMatchObject({ root_id: q.message.messageId, parent_id: q.message.messageId });
    expect(plain.data?.thread_id).toBeUndefined();
    const threaded = await client.im.v1.message.reply({ path: { message_id: q.message.messageId }, data: { msg_type: 'text', content: JSON.stringify({ text: 'in a thread' }), reply_in_thread: true, uuid: 'r-1' } });
    const thread = threaded.data!.thread_id!;
    expect(thread).toMatch(/^omt_/);
    const follow = fake.pushMessage({ chat: team, from: alice, text: 'more', inThreadOf: q.message.messageId });
    expect(follow.message.threadId).toBe(thread);
    const inThread = await client.im.v1.message.reply({ path: { message_id: follow.message.messageId }, data: { msg_type: 'text', content: JSON.stringify({ text: 'still in it' }) } });
    expect(inThread.data?.thread_id).toBe(thread);
    const dup = await client.im.v1.message.reply({ path: { message_id: q.message.messageId }, data: { msg_type: 'text', content: JSON.stringify({ text: 'in a thread' }), reply_in_thread: true, uuid: 'r-1' } });
    expect(dup.data?.message_id).toBe(threaded.data?.message_id);
    expect(fake.sent(team, { thread }).map((m) => m.text)).toEqual(['in a thread', 'still in it']);
    expect(fake.sent(team).map((m) => [m.text, m.threadId === undefined])).toEqual([
      ['in the group', true],
      ['in a thread', false],
      ['still in it', false],
    ]);
  });

  it('starts a topic for every top-level message in a topic group', async () => {
    const topics = fake.group('Topics', 'topic');
    const a = fake.pushMessage({ chat: topics, from: alice, text: 'topic one' });
    const sent = await client.im.v1.message.create({ params: { receive_id_type: 'chat_id' }, data: { receive_id: topics.chatId, msg_type: 'text', content: '{"text":"topic two"}' } });
    expect(a.message.threadId).toMatch(/^omt_/);
    expect(sent.data?.thread_id).toMatch(/^omt_/);
    expect(sent.data?.thread_id).not.toBe(a.message.threadId);
  });

  it(`edits text with update (PUT) at most ${MAX_EDITS} times, then answers 230072; cards are patched, not updated`, async () => {
    const chat = fake.p2pChat(alice);
    const m = await client.im.v1.message.create({ params: { receive_id_type: 'chat_id' }, data: { receive_id: chat.chatId, msg_type: 'text', content: '{"text":"v0"}' } });
    const id = m.data!.message_id!;
    for (let i = 1; i <= MAX_EDITS; i++) await client.im.v1.message.update({ path: { message_id: id }, data: { msg_type: 'text', content: JSON.stringify({ text: `v${i}` }) } });
    const err = await rejectionOf(client.im.v1.message.update({ path: { message_id: id }, data: { msg_type: 'text', content: '{"text":"one too many"}' } }));
    expect(err.response?.status).toBe(400);
    expect(err.response?.data.code).toBe(FEISHU_CODES.editLimitReached.code);
    expect(fake.sent(chat)[0]).toMatchObject({ text: `v${MAX_EDITS}`, edits: MAX_EDITS });
    expect(fake.sent(chat)[0]!.history).toHaveLength(MAX_EDITS + 1);

    const card = await sendCard(chat.chatId);
    const cardErr = await rejectionOf(client.im.v1.message.update({ path: { message_id: card }, data: { msg_type: 'text', content: '{"text":"x"}' } }));
    expect(cardErr.response?.data.code).toBe(FEISHU_CODES.unsupportedForType.code);
    await client.im.v1.message.patch({ path: { message_id: card }, data: { content: JSON.stringify({ elements: [{ tag: 'markdown', content: 'Approved by Alice' }] }) } });
    expect(fake.message(card)?.text).toBe('Approved by Alice');
    expect(fake.message(card)?.history[0]).toBe('Run ls?\nThe agent wants to run `ls`.\n[Approve]\n[Deny]');
  });

  it('recalls with delete; a reply to a recalled message answers 230011, to an unknown one 231003; a person can recall too', async () => {
    const chat = fake.p2pChat(alice);
    const m = await client.im.v1.message.create({ params: { receive_id_type: 'chat_id' }, data: { receive_id: chat.chatId, msg_type: 'text', content: '{"text":"oops"}' } });
    await client.im.v1.message.delete({ path: { message_id: m.data!.message_id! } });
    expect(fake.sent(chat)).toEqual([]);
    const recalled = await rejectionOf(client.im.v1.message.reply({ path: { message_id: m.data!.message_id! }, data: { msg_type: 'text', content: '{"text":"x"}' } }));
    expect(recalled.response?.data.code).toBe(FEISHU_CODES.messageRecalled.code);
    const missing = await rejectionOf(client.im.v1.message.reply({ path: { message_id: 'om_nope' }, data: { msg_type: 'text', content: '{"text":"x"}' } }));
    expect(missing.response?.data.code).toBe(FEISHU_CODES.messageNotFound.code);
    const q = fake.pushMessage({ chat, from: alice, text: 'never mind' });
    fake.userRecalls(q.message.messageId);
    const gone = await rejectionOf(client.im.v1.message.reply({ path: { message_id: q.message.messageId }, data: { msg_type: 'text', content: '{"text":"x"}' } }));
    expect(gone.response?.data.code).toBe(FEISHU_CODES.messageRecalled.code);
  });

  it('adds and removes reactions on a person\'s message', async () => {
    const chat = fake.p2pChat(alice);
    const q = fake.pushMessage({ chat, from: alice, text: 'working?' });
    const added = await client.im.v1.messageReaction.create({ path: { message_id: q.message.messageId }, data: { reaction_type: { emoji_type: 'Typing' } } });
    const reactionId = added.data!.reaction_id!;
    expect(fake.message(q.message.messageId)?.reactions).toEqual([{ reactionId, emojiType: 'Typing', byBot: true, deleted: false }]);
    await client.im.v1.messageReaction.delete({ path: { message_id: q.message.messageId, reaction_id: reactionId } });
    expect(fake.message(q.message.messageId)?.reactions[0]?.deleted).toBe(true);
    const twice = await rejectionOf(client.im.v1.messageReaction.delete({ path: { message_id: q.message.messageId, reaction_id: reactionId } }));
    expect(twice.response?.data.code).toBe(FEISHU_CODES.imInvalidParam.code);
  });

  it('refuses a body over 150 KB for text and over 30 KB for a card with 230025, and takes one just under', async () => {
    const chat = fake.p2pChat(alice);
    const overhead = JSON.stringify({ receive_id: chat.chatId, msg_type: 'text', content: JSON.stringify({ text: '' }) }).length;
    const fits = 'a'.repeat(BODY_LIMIT_BYTES.text! - overhead);
    await client.im.v1.message.create({ params: { receive_id_type: 'chat_id' }, data: { receive_id: chat.chatId, msg_type: 'text', content: JSON.stringify({ text: fits }) } });
    const text = await rejectionOf(client.im.v1.message.create({ params: { receive_id_type: 'chat_id' }, data: { receive_id: chat.chatId, msg_type: 'text', content: JSON.stringify({ text: `${fits}a` }) } }));
    expect(text.response?.status).toBe(400);
    expect(text.response?.data.code).toBe(FEISHU_CODES.contentTooLong.code);
    const bigCard = JSON.stringify({ elements: [{ tag: 'markdown', content: 'x'.repeat(BODY_LIMIT_BYTES.interactive!) }] });
    const card = await rejectionOf(client.im.v1.message.create({ params: { receive_id_type: 'chat_id' }, data: { receive_id: chat.chatId, msg_type: 'interactive', content: bigCard } }));
    expect(card.response?.data.code).toBe(FEISHU_CODES.contentTooLong.code);
    expect(fake.sent(chat)).toHaveLength(1);
  });

  it('refuses sends where the bot may not speak: removed (230002), blocked (230053), muted (230035)', async () => {
    const team = fake.group('Team');
    const quiet = fake.group('Quiet');
    fake.removeBot(team);
    fake.mute(quiet);
    fake.userBlocksBot(alice);
    const codes = [];
    for (const chatId of [team.chatId, fake.p2pChat(alice).chatId, quiet.chatId]) {
      const err = await rejectionOf(client.im.v1.message.create({ params: { receive_id_type: 'chat_id' }, data: { receive_id: chatId, msg_type: 'text', content: '{"text":"x"}' } }));
      codes.push(err.response?.data.code);
    }
    expect(codes).toEqual([230002, 230053, 230035]);
  });

  it('with perChatQps set, answers 230020 past that many operations in a second of the platform clock', async () => {
    let clock = 1_000_000;
    await fake.close();
    fake = await startFakeFeishu({ perChatQps: 5, now: () => clock });
    alice = fake.user('Alice');
    client = newClient();
    const chat = fake.p2pChat(alice);
    const send = (i: number) => client.im.v1.message.create({ params: { receive_id_type: 'chat_id' }, data: { receive_id: chat.chatId, msg_type: 'text', content: JSON.stringify({ text: `m${i}` }) } });
    for (let i = 0; i < 5; i++) await send(i);
    expect((await rejectionOf(send(5))).response?.data.code).toBe(FEISHU_CODES.chatRateLimited.code);
    clock += 1000;
    await send(6);
    expect(fake.sent(chat)).toHaveLength(6);
  });
});

describe('faults with the real Client', () => {
  let alice: FakeUser;
  let client: lark.Client;

  beforeEach(() => {
    alice = fake.user('Alice');
    client = newClient();
  });

  const create = (chatId: string, text = 'hi') => client.im.v1.message.create({ params: { receive_id_type: 'chat_id' }, data: { receive_id: chatId, msg_type: 'text', content: JSON.stringify({ text }) } });

  it('serves HTTP 429 + 99991400 with x-ogw-ratelimit-reset: the SDK throws an AxiosError whose reset header is readable', async () => {
    const chat = fake.p2pChat(alice);
    fake.fail({ route: 'message.create', ...FAULTS.rateLimited(2) });
    const err = await rejectionOf(create(chat.chatId));
    expect(err.response?.status).toBe(429);
    expect(err.response?.data.code).toBe(99991400);
    expect(err.response?.headers['x-ogw-ratelimit-reset']).toBe('2');
    await create(chat.chatId);
    expect(fake.sent(chat)).toHaveLength(1);
    expect(fake.callsOf('message.create').map((c) => [c.status, c.faulted])).toEqual([
      [429, true],
      [200, false],
    ]);
  });

  it('answers 99991663 once the token is invalidated; the SDK resolves (HTTP 200) or throws (400), and a cleared cache gets t-fake-2', async () => {
    const chat = fake.p2pChat(alice);
    await create(chat.chatId, 'before');
    expect(fake.invalidateToken({ status: 200 })).toBe('t-fake-1');
    const resolved = await create(chat.chatId, 'lost');
    expect(resolved.code).toBe(FEISHU_CODES.invalidTenantToken.code);
    fake.invalidateToken();
    const thrown = await rejectionOf(create(chat.chatId, 'lost too'));
    expect(thrown.response?.data.code).toBe(FEISHU_CODES.invalidTenantToken.code);
    // The recipe of notes §4.3: evict the cached token, then retry once.
    await client.tokenManager.cache.set(lark.CTenantAccessToken, '', 0, { namespace: fake.appId });
    await create(chat.chatId, 'after');
    expect(fake.tokenCalls()).toBe(2);
    expect(fake.callsOf('message.create').map((c) => c.authorization)).toEqual(['Bearer t-fake-1', 'Bearer t-fake-1', 'Bearer t-fake-1', 'Bearer t-fake-2']);
    expect(fake.sent(chat).map((m) => m.text)).toEqual(['before', 'after']);
  });

  it('serves 230020 with HTTP 200 (the SDK resolves) or 400 (it throws), 230011 and 231003 on reply, and a 5xx', async () => {
    const chat = fake.p2pChat(alice);
    const q = fake.pushMessage({ chat, from: alice, text: 'q' });
    fake.fail({ route: 'message.create', ...FAULTS.chatRateLimited(200) });
    fake.fail({ route: 'message.create', ...FAULTS.chatRateLimited() });
    expect((await create(chat.chatId)).code).toBe(230020);
    expect((await rejectionOf(create(chat.chatId))).response?.data.code).toBe(230020);
    fake.fail({ route: 'message.reply', ...FAULTS.replyTargetRecalled() });
    fake.fail({ route: 'message.reply', ...FAULTS.replyTargetMissing() });
    const reply = () => client.im.v1.message.reply({ path: { message_id: q.message.messageId }, data: { msg_type: 'text', content: '{"text":"a"}' } });
    expect((await rejectionOf(reply())).response?.data.code).toBe(230011);
    expect((await rejectionOf(reply())).response?.data.code).toBe(231003);
    fake.fail({ route: '*', ...FAULTS.serverError(502) });
    expect((await rejectionOf(reply())).response?.status).toBe(502);
    await reply();
    expect(fake.pendingFaults()).toBe(0);
    expect(fake.sent(chat).map((m) => m.text)).toEqual(['a']);
  });

  it('applies a fault only to calls matching `when`, and a hung request stays unanswered until the client gives up', async () => {
    const team = fake.group('Team');
    const other = fake.group('Other');
    fake.fail({ route: 'message.create', ...FAULTS.hang(), when: (req) => req.body.receive_id === team.chatId });
    await create(other.chatId, 'goes out');
    const hung = await rejectionOf(client.request({ url: '/open-apis/im/v1/messages', method: 'POST', params: { receive_id_type: 'chat_id' }, data: { receive_id: team.chatId, msg_type: 'text', content: '{"text":"x"}' }, timeout: 200 }));
    expect(hung.code).toBe('ECONNABORTED');
    expect(fake.sent(team)).toEqual([]);
    expect(fake.callsOf('message.create').map((c) => [c.status, c.faulted])).toEqual([
      [200, false],
      [0, true],
    ]);
  });

  it('refuses a wrong app secret at the token endpoint; the SDK fails the call with the code', async () => {
    const wrong = newClient({ appSecret: 'wrong' });
    const err = await rejectionOf(wrong.im.v1.chat.get({ path: { chat_id: fake.p2pChat(alice).chatId } }));
    expect(err.message).toContain(`code: ${FEISHU_CODES.appSecretInvalid.code}`);
    expect(fake.callCount('chat.get')).toBe(0);
  });

  it('answers a call without a token with 99991661 and an unknown path with 404', async () => {
    const res = await fetch(`${fake.url}/open-apis/bot/v3/info`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: number }).code).toBe(FEISHU_CODES.missingToken.code);
    expect((await fetch(`${fake.url}/open-apis/nope`)).status).toBe(404);
  });
});

describe('the fake itself', () => {
  it('listens on 127.0.0.1 only and closes fast with a client connected and a request hung', async () => {
    expect(new URL(fake.url).hostname).toBe('127.0.0.1');
    const { states } = await startWsClient({});
    await states.ready.promise;
    fake.fail({ route: 'bot.info', ...FAULTS.hang() });
    const hung = newClient().request({ url: '/open-apis/bot/v3/info', method: 'GET' }).catch((e: unknown) => e);
    await fake.waitFor(() => fake.callCount('bot.info') === 1, 5000, 'the hung call');
    const started = Date.now();
    await fake.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await hung).toBeInstanceOf(Error);
  });
});
