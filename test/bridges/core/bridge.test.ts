// The bridge core end to end: a real runtime (fake model) and a recording adapter playing the platform.
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../../bridges/core/adapter.js';
import { runBridge, type RunningBridge } from '../../../bridges/core/bridge.js';
import type { BridgeTiming } from '../../../bridges/core/context.js';
import { mintPairCode } from '../../../bridges/core/enrolment.js';
import { unsupportedMessageText } from '../../../bridges/core/inbox.js';
import { PAIR_REFUSED_TEXT } from '../../../bridges/core/pairing.js';
import { PRESS_RECEIVED_TEXT } from '../../../bridges/core/presses.js';
import { BridgeStore } from '../../../bridges/core/store.js';
import { loadBridgeConfig } from '../../../lib/config.js';
import { createLogger } from '../../../lib/log.js';
import { RuntimeApiError, createRuntimeClient, type RuntimeClient } from '../../../lib/runtime-client.js';
import { runCli } from '../../support/cli.js';
import { startHangProxy } from '../../support/hang-proxy.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { RecordingAdapter } from './recording-adapter.js';
import { freePort, waitUntil } from '../../support/wait.js';

const FAST: Partial<BridgeTiming> = { queuedNoticeMs: 300, runtimeRetryMaxMs: 150, outboxPollMs: 100, sendRetryMaxMs: 300 };
const OWNER = '1001';



interface Harness {
  rt: TestRuntime;
  adapter: RecordingAdapter;
  bridge: RunningBridge;
  logs: string[];
  clock: { offset: number };
  start(adapter?: RecordingAdapter): Promise<RunningBridge>;
  /** Stops the bridge, deletes its store (as a wiped disk would) and starts it again with a fresh adapter. */
  restartWithoutStore(): Promise<RecordingAdapter>;
  threads(): Promise<Array<{ id: string; metadata: Record<string, string>; archived: boolean }>>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function harness(o: { allowlist?: string[]; env?: Record<string, string>; adapter?: RecordingAdapter; progress?: boolean; pairing?: boolean; timing?: Partial<BridgeTiming>; identity?: string } = {}): Promise<Harness> {
  const port = await freePort();
  const rt = await startTestRuntime({ TETHER_PORT: String(port), ...o.env });
  cleanups.push(() => rt.stop());
  const logs: string[] = [];
  const logger = createLogger('bridge', { level: 'debug', write: (l) => logs.push(l) });
  const clock = { offset: 0 };
  const config = loadBridgeConfig({ TETHER_STATE_DIR: rt.stateDir, TETHER_RUNTIME_URL: rt.url, TETHER_PROGRESS: o.progress === false ? 'off' : 'on', TETHER_PAIRING: o.pairing === false ? 'off' : 'on' });
  let current: RunningBridge | undefined;
  const h: Harness = {
    rt,
    adapter: o.adapter ?? new RecordingAdapter(),
    bridge: undefined as unknown as RunningBridge,
    logs,
    clock,
    async start(adapter = h.adapter) {
      h.adapter = adapter;
      current = await runBridge(adapter, { config, allowlist: o.allowlist ?? [OWNER], logger, identity: o.identity ?? 'test', timing: { ...FAST, ...o.timing }, clock: () => Date.now() + clock.offset });
      h.bridge = current;
      return current;
    },
    async restartWithoutStore() {
      await current?.stop();
      for (const f of ['telegram.db', 'telegram.db-wal', 'telegram.db-shm']) rmSync(`${rt.stateDir}/${f}`, { force: true });
      const fresh = new RecordingAdapter();
      await h.start(fresh);
      return fresh;
    },
    async threads() {
      return (await rt.api('GET', '/v1/threads')).body.threads;
    },
  };
  cleanups.push(async () => {
    await current?.stop();
  });
  await h.start();
  return h;
}

describe('bridge core against the real runtime', () => {
  it('relays an allowlisted message as a turn and sends the reply back to its chat', async () => {
    const h = await harness();
    await h.adapter.say({ user: OWNER }, 'hello there');
    const reply = await h.adapter.waitForText(OWNER, 'echo: hello there');
    expect(reply.to).toMatchObject({ platform: 'telegram', chatId: OWNER, kind: 'private' });
    const threads = await h.threads();
    expect(threads).toHaveLength(1);
    expect(threads[0]!.metadata).toMatchObject({ platform: 'telegram', conversation: OWNER });
  });

  it('gives a stranger one request code per 10 minutes and lets nothing reach the runtime', async () => {
    const h = await harness();
    await h.adapter.say({ user: '666', name: 'Eve' }, 'let me in');
    const first = await h.adapter.waitForText('666', /request code: ([A-Z2-9]{8})/);
    await h.adapter.say({ user: '666' }, 'hello?');
    await h.adapter.say({ user: '666' }, '/new');
    // The owner, who wrote before, is told about the request.
    h.clock.offset = 11 * 60 * 1000;
    await h.adapter.say({ user: '666' }, 'still me');
    await h.adapter.waitFor(() => h.adapter.textsTo('666').length === 2 || undefined);
    expect(h.adapter.textsTo('666')).toHaveLength(2);
    expect(h.adapter.textsTo('666')[1]).not.toBe(first.text);
    expect(await h.threads()).toHaveLength(0);
    expect((await h.rt.api('GET', '/v1/threads')).body.threads).toEqual([]);
  });

  it('tells an owner about a request and lets them approve it with the button', async () => {
    const h = await harness();
    await h.adapter.say({ user: OWNER }, 'hi');
    await h.adapter.waitForText(OWNER, 'echo: hi');
    await h.adapter.say({ user: '777', name: 'Friend' }, 'may I?');
    const prompt = await h.adapter.waitFor(() => h.adapter.sent.find((s) => s.kind === 'approval' && s.to.chatId === OWNER));
    expect(prompt.text).toContain('Friend (id 777)');
    expect(await h.adapter.press({ user: '777' }, prompt.approvalId!, 'approve')).toBe('You are not allowed to decide this.');
    expect(await h.adapter.press({ user: OWNER }, prompt.approvalId!, 'approve')).toBe('Approved.');
    await h.adapter.waitForText('777', 'approved your request');
    expect(await h.adapter.press({ user: OWNER }, prompt.approvalId!, 'approve')).toMatch(/Already decided/);
    await h.adapter.say({ user: '777' }, 'thanks');
    await h.adapter.waitForText('777', 'echo: thanks');
  });

  it('a request approved with `tether pair approve` while the bridge runs lets the stranger talk', async () => {
    const h = await harness();
    await h.adapter.say({ user: '888' }, 'hello?');
    const reply = await h.adapter.waitForText('888', /request code: ([A-Z2-9]{8})/);
    const code = /request code: ([A-Z2-9]{8})/.exec(reply.text)![1]!;
    const cli = await runCli(['pair', 'approve', 'telegram', code], { env: { TETHER_STATE_DIR: h.rt.stateDir } });
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    await h.adapter.waitForText('888', 'approved your request');
    await h.adapter.say({ user: '888' }, 'in now');
    await h.adapter.waitForText('888', 'echo: in now');
    // The code was shown once; the database keeps only its hash.
    const store = BridgeStore.open(h.rt.stateDir, 'telegram');
    const bodies = (store.db.prepare('SELECT body FROM outbox').all() as Array<{ body: string }>).map((r) => r.body).join('\n');
    store.close();
    expect(bodies).not.toContain(code);
  });

  it('pairs with the code logged at start, once, and refuses wrong, used and expired codes alike', async () => {
    const h = await harness({ allowlist: [] });
    const line = h.logs.find((l) => l.includes('nobody may talk'));
    const code = JSON.parse(line!).code as string;
    expect(code).toMatch(/^[2-9A-HJKMNP-Z]{8}$/);
    await h.adapter.say({ user: '42' }, `/pair ${code.toLowerCase()}`);
    await h.adapter.waitForText('42', 'Paired');
    await h.adapter.say({ user: '42' }, 'now I talk');
    await h.adapter.waitForText('42', 'echo: now I talk');
    // Single use: someone else with the same code gets the same answer as a wrong code.
    await h.adapter.say({ user: '43' }, `/pair ${code}`);
    await h.adapter.say({ user: '44' }, '/pair ZZZZZZZZ');
    await h.adapter.waitFor(() => h.adapter.textsTo('44').length === 1 || undefined);
    expect(h.adapter.textsTo('43')).toEqual([PAIR_REFUSED_TEXT]);
    expect(h.adapter.textsTo('44')).toEqual([PAIR_REFUSED_TEXT]);
    // Expired: minted by another process (as `tether pair code` does), used after an hour.
    const cli = BridgeStore.open(h.rt.stateDir, 'telegram');
    const { code: late } = mintPairCode(cli, Date.now());
    cli.close();
    h.clock.offset = 61 * 60 * 1000;
    await h.adapter.say({ user: '45' }, `/pair ${late}`);
    await h.adapter.waitFor(() => h.adapter.textsTo('45').length === 1 || undefined);
    expect(h.adapter.textsTo('45')).toEqual([PAIR_REFUSED_TEXT]);
  });

  it('locks a sender out after 5 wrong codes: even the right code is then refused', async () => {
    const h = await harness({ allowlist: [] });
    const store = BridgeStore.open(h.rt.stateDir, 'telegram');
    const { code } = mintPairCode(store, Date.now());
    store.close();
    for (let i = 0; i < 5; i++) await h.adapter.say({ user: '50' }, `/pair WRONG${i}AAA`);
    await h.adapter.say({ user: '50' }, `/pair ${code}`);
    await h.adapter.waitFor(() => h.adapter.textsTo('50').length === 6 || undefined);
    expect(new Set(h.adapter.textsTo('50'))).toEqual(new Set([PAIR_REFUSED_TEXT]));
    expect(h.logs.some((l) => l.includes('locked out'))).toBe(true);
    // Another sender can still use the code: the lockout is per sender.
    await h.adapter.say({ user: '51' }, `/pair ${code}`);
    await h.adapter.waitForText('51', 'Paired');
  });

  it('five wrong codes spread over almost an hour lock the sender for a full hour from the fifth, across a restart', async () => {
    const h = await harness({ allowlist: [] });
    const minute = 60_000;
    const mint = () => {
      const store = BridgeStore.open(h.rt.stateDir, 'telegram');
      const { code } = mintPairCode(store, Date.now() + h.clock.offset);
      store.close();
      return code;
    };
    await h.adapter.say({ user: '52' }, '/pair WRONGAAA');
    h.clock.offset = 59 * minute;
    for (let i = 0; i < 4; i++) await h.adapter.say({ user: '52' }, `/pair WRONG${i}AA`);
    // The first guess has left the hour's window; the lockout, which began at the fifth, holds.
    h.clock.offset = 60 * minute;
    await h.adapter.say({ user: '52' }, `/pair ${mint()}`);
    await h.adapter.waitFor(() => h.adapter.textsTo('52').length === 6 || undefined, 10_000, 'six refusals');
    expect(new Set(h.adapter.textsTo('52'))).toEqual(new Set([PAIR_REFUSED_TEXT]));
    await h.bridge.stop();
    await h.start(new RecordingAdapter());
    const refused = h.logs.filter((l) => l.includes('pairing refused')).length;
    h.clock.offset = 118 * minute;
    await h.adapter.say({ user: '52' }, `/pair ${mint()}`, 'after-restart:1');
    expect(h.logs.filter((l) => l.includes('pairing refused: sender locked out'))).toHaveLength(2);
    h.clock.offset = 119 * minute + 1000;
    await h.adapter.say({ user: '52' }, `/pair ${mint()}`, 'after-restart:2');
    await h.adapter.waitForText('52', 'Paired');
    expect(h.logs.filter((l) => l.includes('pairing refused')).length).toBe(refused + 1);
    expect(h.logs.some((l) => l.includes('this sender is locked until'))).toBe(true);
  });

  it('with TETHER_PAIRING=off only the allowlist admits: paired users and paired groups are kept but not let in', async () => {
    const h = await harness({ pairing: false, allowlist: [OWNER] });
    const store = BridgeStore.open(h.rt.stateDir, 'telegram');
    store.allow({ kind: 'user', id: '4242', role: 'owner', addedBy: 'pair code', now: Date.now() });
    store.allow({ kind: 'chat', id: '-4343', role: 'user', addedBy: 'test', now: Date.now() });
    store.close();
    await h.adapter.say({ user: '4242' }, 'paired before');
    await h.adapter.say({ user: OWNER, chat: '-4343', kind: 'group' }, 'in a paired group');
    await h.adapter.say({ user: OWNER }, 'marker');
    await h.adapter.waitForText(OWNER, 'echo: marker');
    expect(h.adapter.textsTo('4242')).toEqual([]);
    await h.adapter.waitForText('-4343', 'Pairing is off');
    expect(h.adapter.textsTo('-4343')).toEqual(['This group is not allowed to use the agent. Pairing is off: an owner can add its id (-4343) to the allowlist on the host.']);
    expect((await h.threads()).map((t) => t.metadata.conversation)).toEqual([OWNER]);
    // Still stored: turning pairing back on admits them again without a new code.
    const after = BridgeStore.open(h.rt.stateDir, 'telegram');
    expect(after.listAllowed().map((r) => r.id).sort()).toEqual(['-4343', '4242']);
    after.close();
  });

  it('a locked-out sender spamming /pair does not freeze pairing for a new person with a fresh code', async () => {
    const h = await harness({ allowlist: [] });
    for (let i = 0; i < 30; i++) await h.adapter.say({ user: '60' }, `/pair WRONG${String(i).padStart(2, '0')}AA`);
    await h.adapter.waitFor(() => h.adapter.textsTo('60').length === 30 || undefined);
    expect(h.logs.filter((l) => l.includes('locked out')).length).toBe(25);
    const store = BridgeStore.open(h.rt.stateDir, 'telegram');
    const { code } = mintPairCode(store, Date.now());
    store.close();
    await h.adapter.say({ user: '61' }, `/pair ${code}`);
    await h.adapter.waitForText('61', 'Paired');
    expect(h.logs.some((l) => l.includes('pairing frozen'))).toBe(false);
  });

  it('keeps no request code in clear anywhere in the database after a request is approved from chat', async () => {
    const h = await harness();
    await h.adapter.say({ user: OWNER }, 'hi');
    await h.adapter.waitForText(OWNER, 'echo: hi');
    await h.adapter.say({ user: '889', name: 'Mallory' }, 'hello?');
    const reply = await h.adapter.waitForText('889', /request code: ([A-Z2-9]{8})/);
    const code = /request code: ([A-Z2-9]{8})/.exec(reply.text)![1]!;
    await h.adapter.waitFor(() => h.adapter.sent.find((s) => s.kind === 'approval' && s.text.includes(code)));
    await h.adapter.say({ user: OWNER }, `/approve ${code}`);
    await h.adapter.waitForText(OWNER, 'Approved: Mallory');
    await h.adapter.waitForText('889', 'approved your request');
    const store = BridgeStore.open(h.rt.stateDir, 'telegram');
    const tables = (store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name);
    const dump = tables.map((t) => JSON.stringify(store.db.prepare(`SELECT * FROM "${t}"`).all())).join('\n');
    store.close();
    expect(tables).toEqual(expect.arrayContaining(['outbox', 'inbox', 'codes']));
    expect(dump).not.toContain(code);
  });

  it('commits a message and the reply it earns together: a crash between them loses neither the reply nor the Paired notice', async () => {
    const h = await harness({ allowlist: [OWNER] });
    const enqueue = BridgeStore.prototype.enqueue;
    const crashOnce = (pattern: string) => {
      BridgeStore.prototype.enqueue = function (this: BridgeStore, ...args: Parameters<typeof enqueue>) {
        if (args[0].some((r) => r.body.text.includes(pattern))) {
          BridgeStore.prototype.enqueue = enqueue;
          throw new Error('crash between the status and the reply');
        }
        return enqueue.apply(this, args);
      };
    };
    cleanups.push(async () => {
      BridgeStore.prototype.enqueue = enqueue;
    });
    const group = { chat: '-800', kind: 'group' as const };
    crashOnce('not paired yet');
    await expect(h.adapter.say({ user: OWNER, ...group }, 'hello group', 'crash:1')).rejects.toThrow('crash between');
    // The platform redelivers what was not confirmed.
    await h.adapter.say({ user: OWNER, ...group }, 'hello group', 'crash:1');
    await h.adapter.waitForText('-800', 'not paired yet');

    const store = BridgeStore.open(h.rt.stateDir, 'telegram');
    const { code } = mintPairCode(store, Date.now());
    store.close();
    crashOnce('Paired: you are an owner');
    await expect(h.adapter.say({ user: '71' }, `/pair ${code}`, 'crash:2')).rejects.toThrow('crash between');
    await h.adapter.say({ user: '71' }, `/pair ${code}`, 'crash:2');
    await h.adapter.waitForText('71', 'Paired: you are an owner');
    expect(h.adapter.textsTo('-800')).toHaveLength(1);
    expect(h.adapter.textsTo('71')).toHaveLength(1);
  });

  it('/approve with a request code tells a non-owner nothing about whether the code is valid', async () => {
    const h = await harness();
    const store = BridgeStore.open(h.rt.stateDir, 'telegram');
    store.allow({ kind: 'user', id: '555', role: 'user', addedBy: 'test', now: Date.now() });
    store.close();
    await h.adapter.say({ user: '890' }, 'let me in');
    const reply = await h.adapter.waitForText('890', /request code: ([A-Z2-9]{8})/);
    const code = /request code: ([A-Z2-9]{8})/.exec(reply.text)![1]!;
    await h.adapter.say({ user: '555' }, `/approve ${code}`);
    await h.adapter.say({ user: '555' }, '/approve ZZZZZZZZ');
    await h.adapter.waitFor(() => h.adapter.textsTo('555').length === 2 || undefined);
    const [right, wrong] = h.adapter.textsTo('555');
    expect(right!.replace(code, 'X')).toBe(wrong!.replace('ZZZZZZZZ', 'X'));
    // The request is still open for an owner.
    await h.adapter.say({ user: OWNER }, `/approve ${code}`);
    await h.adapter.waitForText(OWNER, 'Approved: 890');
  });

  it('a redelivered message never makes a second turn', async () => {
    const h = await harness();
    await h.adapter.say({ user: OWNER }, 'once only', 'update:9');
    await h.adapter.say({ user: OWNER }, 'once only', 'update:9');
    await h.adapter.waitForText(OWNER, 'echo: once only');
    await h.adapter.say({ user: OWNER }, 'next');
    await h.adapter.waitForText(OWNER, 'echo: next');
    const [thread] = await h.threads();
    const turns = (await h.rt.api('GET', `/v1/threads/${thread!.id}`)).body.turns;
    expect(turns.map((t: { input: string }) => t.input)).toEqual(['once only', 'next']);
    expect(h.adapter.textsTo(OWNER).filter((t) => t === 'echo: once only')).toHaveLength(1);
  });

  it('queues messages while the runtime is down, says so once, and posts them in order when it is back', async () => {
    const h = await harness();
    await h.adapter.say({ user: OWNER }, 'warm up');
    await h.adapter.waitForText(OWNER, 'echo: warm up');
    await h.rt.stopRuntime();
    await h.adapter.say({ user: OWNER }, 'first while down');
    await h.adapter.say({ user: OWNER }, 'second while down');
    await h.adapter.waitForText(OWNER, 'queued');
    await h.rt.restart();
    await h.adapter.waitForText(OWNER, 'echo: second while down');
    const texts = h.adapter.textsTo(OWNER);
    expect(texts.filter((t) => t.includes('queued'))).toHaveLength(1);
    expect(texts.indexOf('echo: first while down')).toBeGreaterThan(-1);
    expect(texts.indexOf('echo: first while down')).toBeLessThan(texts.indexOf('echo: second while down'));
  });

  it('a bridge restarted in the middle of a turn sends its reply exactly once', async () => {
    const h = await harness();
    await h.adapter.say({ user: OWNER }, '!slow 150 slow reply here');
    await h.adapter.waitFor(() => h.adapter.typings.length > 0 || undefined, 10_000, 'typing');
    await h.bridge.stop();
    const first = h.adapter;
    const second = new RecordingAdapter();
    await h.start(second);
    await second.waitForText(OWNER, 'slow reply here');
    await second.say({ user: OWNER }, 'after restart', 'second:1');
    await second.waitForText(OWNER, 'echo: after restart');
    const all = [...first.sent, ...second.sent].filter((s) => s.text.includes('slow reply here'));
    expect(all).toHaveLength(1);
  });

  it('a second bot on the same runtime relays none of the first bot\'s threads, and keeps its own thread for the same chat id', async () => {
    const h = await harness();
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const otherDir = mkdtempSync(`${tmpdir()}/tether-second-bot-`);
    cleanups.push(async () => rmSync(otherDir, { recursive: true, force: true }));
    const other = new RecordingAdapter();
    const config = loadBridgeConfig({ TETHER_STATE_DIR: otherDir, TETHER_RUNTIME_URL: h.rt.url, TETHER_TOKEN: h.rt.token, TETHER_PROGRESS: 'off' });
    const second = await runBridge(other, { config, allowlist: [OWNER], logger: createLogger('bridge', { level: 'error', write: () => {} }), identity: 'other-bot', timing: FAST });
    cleanups.push(() => second.stop());
    await h.adapter.say({ user: OWNER }, 'to the first bot');
    await h.adapter.waitForText(OWNER, 'echo: to the first bot');
    await other.say({ user: OWNER }, 'to the second bot');
    await other.waitForText(OWNER, 'echo: to the second bot');
    await h.adapter.say({ user: OWNER }, 'first again');
    await h.adapter.waitForText(OWNER, 'echo: first again');
    await other.say({ user: OWNER }, 'second again');
    await other.waitForText(OWNER, 'echo: second again');
    expect(h.adapter.textsTo(OWNER)).toEqual(['echo: to the first bot', 'echo: first again']);
    expect(other.textsTo(OWNER)).toEqual(['echo: to the second bot', 'echo: second again']);
    const threads = await h.threads();
    expect(threads.map((t) => t.metadata.bot).sort()).toEqual(['other-bot', 'test']);
  });

  it('refuses a second bot on the same state dir with the store named, and leaves the first bot\'s store and lock intact', async () => {
    const h = await harness();
    await h.adapter.say({ user: OWNER }, 'before the other bot');
    await h.adapter.waitForText(OWNER, 'echo: before the other bot');
    await h.bridge.stop();
    const config = loadBridgeConfig({ TETHER_STATE_DIR: h.rt.stateDir, TETHER_RUNTIME_URL: h.rt.url, TETHER_TOKEN: h.rt.token });
    const logger = createLogger('bridge', { level: 'error', write: () => {} });
    await expect(runBridge(new RecordingAdapter(), { config, allowlist: [OWNER], logger, identity: 'other-bot', timing: FAST })).rejects.toThrow(
      `${h.rt.stateDir}/telegram.db belongs to telegram bot test, not to this one (other-bot): give each bot its own TETHER_STATE_DIR`,
    );
    // The refusal released the other bot's lock and did not touch the first bot's conversation.
    await h.start(new RecordingAdapter());
    await h.adapter.say({ user: OWNER }, 'after the refusal', 'after:1');
    await h.adapter.waitForText(OWNER, 'echo: after the refusal');
    expect(await h.threads()).toHaveLength(1);
    const again = await runBridge(new RecordingAdapter(), { config, allowlist: [OWNER], logger, identity: 'other-bot', timing: FAST }).catch((err: Error) => err);
    expect(again).toBeInstanceOf(Error);
    expect((again as Error).message).not.toMatch(/is running for this bot/);
  });

  it('stops typing while the runtime is down mid-turn, and clears the stale error in health once it is back', async () => {
    const h = await harness({ timing: { typingIntervalMs: 40 } });
    await h.adapter.say({ user: OWNER }, '!slow 300 a b c d e f g h i j');
    await h.adapter.waitFor(() => h.adapter.typings.length >= 2 || undefined, 10_000, 'typing');
    await h.rt.stopRuntime();
    await waitUntil(() => h.bridge.health().runtime === 'disconnected');
    expect(h.bridge.health().lastError).toBeDefined();
    const shown = h.adapter.typings.length;
    // Ten typing intervals: before, typing went on every interval until the runtime came back.
    await new Promise((r) => setTimeout(r, 400));
    expect(h.adapter.typings.length).toBe(shown);
    await h.rt.restart();
    await h.adapter.waitForText(OWNER, 'restarted before finishing');
    await waitUntil(() => h.bridge.health().runtime === 'connected');
    expect(h.bridge.health().lastError).toBeUndefined();
  });

  it('caps typing at the longest a turn is shown typing, even while the turn goes on', async () => {
    const h = await harness({ timing: { typingIntervalMs: 30, typingMaxMs: 300 } });
    await h.adapter.say({ user: OWNER }, '!slow 100 a b c d e f g h i j k l m n o p q r s t');
    await h.adapter.waitForText(OWNER, 'a b c');
    const first = h.adapter.typingsAt[0]!;
    expect(h.adapter.typingsAt.length).toBeGreaterThan(2);
    // The turn ran about 2 s; typing ended after the cap (plus one interval of slack).
    expect(h.adapter.typingsAt.at(-1)! - first).toBeLessThanOrEqual(300 + 30 + 50);
    expect(h.logs.some((l) => l.includes('typing stopped'))).toBe(true);
  });

  it('relays a turn the bridge did not start, posted straight to the thread', async () => {
    const h = await harness();
    await h.adapter.say({ user: OWNER }, 'open');
    await h.adapter.waitForText(OWNER, 'echo: open');
    const [thread] = await h.threads();
    const posted = await h.rt.api('POST', `/v1/threads/${thread!.id}/turns`, { input: 'from elsewhere' });
    expect(posted.status).toBe(202);
    await h.adapter.waitForText(OWNER, 'echo: from elsewhere');
  });

  it('after `tether pair revoke`, nothing queued for that person or that group runs', async () => {
    const h = await harness({ allowlist: [OWNER] });
    const store = BridgeStore.open(h.rt.stateDir, 'telegram');
    store.allow({ kind: 'user', id: '4100', role: 'user', addedBy: 'test', now: Date.now() });
    store.allow({ kind: 'chat', id: '-4200', role: 'user', addedBy: 'test', now: Date.now() });
    store.close();
    await h.rt.stopRuntime();
    await h.adapter.say({ user: '4100' }, 'queued by a person about to be revoked');
    await h.adapter.say({ user: '4100' }, '/new');
    await h.adapter.say({ user: OWNER, chat: '-4200', kind: 'group' }, 'queued in a group about to be revoked');
    await h.adapter.say({ user: OWNER }, 'queued by the owner');
    for (const id of ['4100', '-4200']) {
      const cli = await runCli(['pair', 'revoke', 'telegram', id], { env: { TETHER_STATE_DIR: h.rt.stateDir } });
      expect(cli.stderr).toBe('');
      expect(cli.code).toBe(0);
    }
    await h.rt.restart();
    await h.adapter.waitForText(OWNER, 'echo: queued by the owner');
    await waitUntil(() => h.bridge.health().inboxDepth === 0);
    expect(h.adapter.textsTo('4100').filter((t) => !t.includes('queued and will be sent'))).toEqual([]);
    expect(h.adapter.textsTo('-4200').filter((t) => !t.includes('queued and will be sent'))).toEqual([]);
    expect((await h.threads()).map((t) => t.metadata.conversation)).toEqual([OWNER]);
    expect(h.logs.filter((l) => l.includes('no longer allowed'))).toHaveLength(3);
  });

  it('a press on an earlier approval button in a revoked group does not decide it', async () => {
    const h = await harness({ allowlist: [OWNER] });
    const group = { chat: '-4300', kind: 'group' as const };
    const store = BridgeStore.open(h.rt.stateDir, 'telegram');
    store.allow({ kind: 'chat', id: '-4300', role: 'user', addedBy: 'test', now: Date.now() });
    store.close();
    await h.adapter.say({ user: OWNER, ...group }, '!tool shell {"command":"echo revoked-run"}');
    const prompt = await h.adapter.waitFor(() => h.adapter.sent.find((s) => s.kind === 'approval' && s.to.chatId === '-4300'));
    const cli = await runCli(['pair', 'revoke', 'telegram', '-4300'], { env: { TETHER_STATE_DIR: h.rt.stateDir } });
    expect(cli.code).toBe(0);
    // The owner is still an owner; the chat is what is no longer allowed.
    expect(await h.adapter.press({ user: OWNER, ...group }, prompt.approvalId!, 'approve')).toBe('This chat is no longer allowed to use the agent.');
    await h.adapter.say({ user: OWNER, ...group }, '/approve');
    await h.adapter.waitForText('-4300', 'not paired yet');
    const pending = (await h.rt.api('GET', '/v1/approvals?status=pending')).body.approvals.map((a: { id: string }) => a.id);
    expect(pending).toEqual([prompt.approvalId]);
  });

  it('accepts an approval button only from its own conversation, and only once', async () => {
    const h = await harness({ allowlist: [OWNER, '2002'] });
    await h.adapter.say({ user: OWNER }, '!tool shell {"command":"echo approved-run"}');
    const prompt = await h.adapter.waitFor(() => h.adapter.sent.find((s) => s.kind === 'approval'));
    expect(prompt.text).toContain('echo approved-run');
    expect(await h.adapter.press({ user: '2002' }, prompt.approvalId!, 'approve')).toBe('This approval belongs to another conversation.');
    expect(await h.adapter.press({ user: OWNER }, prompt.approvalId!, 'approve')).toBe('Approved.');
    await h.adapter.waitForText(OWNER, 'done: ');
    expect(await h.adapter.press({ user: OWNER }, prompt.approvalId!, 'deny')).toBe('Already decided.');
    await h.adapter.say({ user: OWNER }, '/approve');
    await h.adapter.waitForText(OWNER, 'Nothing is waiting for approval');
  });

  it('a press taken while the runtime hangs is answered at once, kept across a bridge restart, decided after it, and its result said in chat', async () => {
    const h = await harness({ allowlist: [OWNER] });
    await h.bridge.stop();
    const proxy = await startHangProxy(h.rt);
    cleanups.push(() => proxy.close());
    // A short client timeout, so stopping the bridge does not wait for the hung call's 30 s.
    const client = createRuntimeClient({ url: proxy.url, token: h.rt.token, timeoutMs: 500 });
    cleanups.push(() => client.close());
    const config = loadBridgeConfig({ TETHER_STATE_DIR: h.rt.stateDir, TETHER_RUNTIME_URL: proxy.url, TETHER_PROGRESS: 'off' });
    const start = (adapter: RecordingAdapter) => runBridge(adapter, { config, allowlist: [OWNER], logger: createLogger('bridge', { level: 'error', write: () => {} }), identity: 'test', timing: { ...FAST, pressAnswerMs: 200 }, client });
    const first = new RecordingAdapter();
    const bridge = await start(first);
    await first.say({ user: OWNER }, '!tool shell {"command":"echo decided-after-restart"}', 'restart:1');
    const prompt = await first.waitFor(() => first.sent.find((s) => s.kind === 'approval'));
    proxy.hang();
    expect(await first.press({ user: OWNER }, prompt.approvalId!, 'approve')).toBe(PRESS_RECEIVED_TEXT);
    await bridge.stop();
    proxy.resume();
    const second = new RecordingAdapter();
    const again = await start(second);
    cleanups.push(() => again.stop());
    await second.waitForText(OWNER, 'Approved: shell runs now.');
    await second.waitForText(OWNER, 'done: ');
    expect([...first.textsTo(OWNER), ...second.textsTo(OWNER)].filter((t) => t.startsWith('Approved'))).toHaveLength(1);
  });

  it('falls back to /approve text when the adapter has no buttons, and /deny works', async () => {
    const h = await harness({ adapter: new RecordingAdapter(4096, false) });
    await h.adapter.say({ user: OWNER }, '!tool shell {"command":"echo never"}');
    const prompt = await h.adapter.waitForText(OWNER, 'Reply /approve or /deny');
    expect(prompt.kind).toBe('text');
    await h.adapter.say({ user: OWNER }, '/deny');
    await h.adapter.waitForText(OWNER, 'Denied: shell will not run.');
  });

  it('sends a long command whole, as ordinary messages, before the prompt with the buttons', async () => {
    const h = await harness();
    const command = `echo ${'x'.repeat(4060)} > /dev/null; touch HIDDEN_TAIL_RAN`;
    await h.adapter.say({ user: OWNER }, `!tool shell ${JSON.stringify({ command })}`);
    const prompt = await h.adapter.waitFor(() => h.adapter.sent.find((s) => s.kind === 'approval'));
    const before = h.adapter.sent.slice(0, h.adapter.sent.indexOf(prompt)).filter((s) => s.to.chatId === OWNER);
    expect(before.map((s) => s.kind)).toEqual(['text', 'text']);
    expect(before.map((s) => s.text).join('').replace(/\s+/g, '')).toContain(command.replace(/\s+/g, ''));
    for (const s of [...before, prompt]) expect([...s.text].length).toBeLessThanOrEqual(4096);
    expect(prompt.text).toMatch(/The whole request is the 4,1\d\d characters in the 2 messages above/);
    expect(prompt.text).toContain('touch HIDDEN_TAIL_RAN');
  });

  it('lays a prompt the platform calls too long out again, the command whole before the buttons, never cut beside them', async () => {
    const h = await harness();
    h.adapter.failures.push(new DeliveryError({ kind: 'too_long' }, 'message is too long'));
    const command = `echo ${'x'.repeat(3000)}; touch TAIL`;
    await h.adapter.say({ user: OWNER }, `!tool shell ${JSON.stringify({ command })}`);
    const prompt = await h.adapter.waitFor(() => h.adapter.sent.find((s) => s.kind === 'approval'));
    expect(h.adapter.attempts[0]!.kind).toBe('approval');
    const before = h.adapter.sent.slice(0, h.adapter.sent.indexOf(prompt));
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((s) => s.kind === 'text')).toBe(true);
    expect(before.map((s) => s.text).join('').replace(/\s+/g, '')).toContain(command.replace(/\s+/g, ''));
    expect(prompt.text).toContain('touch TAIL');
    expect([...prompt.text].length).toBeLessThan(400);
  });

  it("a stopped turn's approval expires in chat: prompt edited with why, gone from /status, and /approve or a press says it expired", async () => {
    const h = await harness({ allowlist: [OWNER] });
    await h.adapter.say({ user: OWNER }, '!tool shell {"command":"echo never-run"}');
    const prompt = await h.adapter.waitFor(() => h.adapter.sent.find((s) => s.kind === 'approval'));
    const messageId = String(h.adapter.sent.indexOf(prompt) + 1);
    await h.adapter.say({ user: OWNER }, '/stop');
    await h.adapter.waitForText(OWNER, 'Stopped.');
    const edit = await h.adapter.waitFor(() => h.adapter.decided.find((d) => d.messageId === messageId), 10_000, 'the prompt edited');
    expect(edit.text).toBe('shell: $ echo never-run\n\n→ expired: its turn was stopped before anyone decided');
    const sent = h.adapter.sent.length;
    await h.adapter.say({ user: OWNER }, '/status');
    const status = await h.adapter.waitForText(OWNER, 'Runtime:', sent);
    expect(status.text).not.toContain('Waiting for approval');
    await h.adapter.say({ user: OWNER }, `/approve ${prompt.approvalId!}`);
    await h.adapter.waitForText(OWNER, 'That approval expired: its turn was stopped before anyone decided.', sent);
    expect(await h.adapter.press({ user: OWNER }, prompt.approvalId!, 'approve')).toMatch(/^That approval expired: its turn was stopped/);
    await h.adapter.say({ user: OWNER }, '/approve');
    await h.adapter.waitForText(OWNER, 'Nothing is waiting for approval', sent);
    expect(h.adapter.decided.filter((d) => d.messageId === messageId)).toHaveLength(1);
  });

  it('a turn cancelled while the bridge is down still expires its prompt once the bridge is back (derived from the replayed events)', async () => {
    const h = await harness();
    await h.adapter.say({ user: OWNER }, '!tool shell {"command":"echo never-run"}');
    const prompt = await h.adapter.waitFor(() => h.adapter.sent.find((s) => s.kind === 'approval'));
    await h.bridge.stop();
    const [thread] = await h.threads();
    const turn = ((await h.rt.api('GET', `/v1/threads/${thread!.id}`)).body.turns as Array<{ id: string; status: string }>).at(-1)!;
    expect(turn.status).toBe('awaiting_approval');
    expect((await h.rt.api('POST', `/v1/threads/${thread!.id}/turns/${turn.id}/cancel`)).status).toBe(200);
    const again = new RecordingAdapter();
    await h.start(again);
    // The prompt was the first message the bridge sent before it stopped.
    const edit = await again.waitFor(() => again.decided[0], 10_000, 'the prompt edited');
    expect(edit).toEqual({ messageId: '1', text: `shell: $ echo never-run\n\n→ expired: its turn was stopped before anyone decided` });
    expect(prompt.kind).toBe('approval');
    await again.say({ user: OWNER }, '/status', 'after-restart:1');
    const status = await again.waitForText(OWNER, 'Runtime:');
    expect(status.text).not.toContain('Waiting for approval');
  });

  it('splits a 10,000-character reply into ordered messages within the limit', async () => {
    const h = await harness();
    const words = Array.from({ length: 1250 }, (_, i) => `w${String(i).padStart(6, '0')}`);
    const text = words.join(' ');
    expect(text.length).toBeGreaterThan(9000);
    await h.adapter.say({ user: OWNER }, text);
    await h.adapter.waitFor(() => h.adapter.textsTo(OWNER).some((t) => t.includes(words.at(-1)!)) || undefined);
    const parts = h.adapter.textsTo(OWNER);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    for (const p of parts) expect([...p].length).toBeLessThanOrEqual(4096);
    expect(parts.join(' ')).toBe(`echo: ${text}`);
  });

  it('honours retry_after: waits that long, then sends the same message once', async () => {
    const h = await harness();
    h.adapter.failures.push(new DeliveryError({ kind: 'retry_after', seconds: 1 }, 'Too Many Requests: retry after 1'));
    await h.adapter.say({ user: OWNER }, 'flooded');
    await h.adapter.waitForText(OWNER, 'echo: flooded');
    const tries = h.adapter.attempts.filter((a) => a.text === 'echo: flooded');
    expect(tries).toHaveLength(2);
    expect(tries[1]!.key).toBe(tries[0]!.key);
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('keeps retrying a reply through a long outage (more failures than any give-up count), says so in health, and sends it once', async () => {
    const h = await harness({ timing: { sendRetryMaxMs: 5 } });
    for (let i = 0; i < 30; i++) h.adapter.failures.push(new DeliveryError({ kind: 'transient' }, 'sendMessage: 502 Bad Gateway'));
    await h.adapter.say({ user: OWNER }, 'through the outage');
    await h.adapter.waitFor(() => h.adapter.attempts.length >= 10 || undefined, 10_000, 'ten failed tries');
    expect(h.bridge.health()).toMatchObject({ sendFailing: 1, lastSendError: 'sendMessage: 502 Bad Gateway' });
    await h.adapter.say({ user: OWNER }, 'queued behind it');
    await h.adapter.waitForText(OWNER, 'echo: queued behind it');
    expect(h.adapter.textsTo(OWNER)).toEqual(['echo: through the outage', 'echo: queued behind it']);
    expect(h.adapter.attempts.filter((a) => a.text === 'echo: through the outage')).toHaveLength(31);
    expect(h.bridge.health().sendFailing).toBe(0);
    expect(h.logs.some((l) => l.includes('sends keep failing; retrying'))).toBe(true);
  });

  it('drops the pending replies of a conversation that is gone, and keeps serving others', async () => {
    const h = await harness({ allowlist: [OWNER, '3003'] });
    h.adapter.failures.push(new DeliveryError({ kind: 'gone', reason: 'bot was blocked by the user' }, 'Forbidden: bot was blocked by the user'));
    const long = Array.from({ length: 1100 }, (_, i) => `x${i}`).join(' ').repeat(2);
    await h.adapter.say({ user: OWNER }, long);
    await h.adapter.waitFor(() => h.adapter.attempts.some((a) => a.to.chatId === OWNER) || undefined, 10_000, 'the first send');
    await h.adapter.say({ user: '3003' }, 'other chat');
    await h.adapter.waitForText('3003', 'echo: other chat');
    expect(h.logs.some((l) => l.includes('conversation is gone'))).toBe(true);
    expect(h.adapter.attempts.filter((a) => a.to.chatId === OWNER)).toHaveLength(1);
    expect(h.adapter.textsTo(OWNER)).toEqual([]);
  });

  it('answers commands: /help, unknown ones, /whoami, /new archives the thread, /schedules later', async () => {
    const h = await harness();
    await h.adapter.say({ user: OWNER }, '/help');
    const help = await h.adapter.waitForText(OWNER, '/new');
    expect(help.text).toContain('/approve');
    await h.adapter.say({ user: OWNER }, '/frobnicate');
    await h.adapter.waitForText(OWNER, 'There is no /frobnicate command. Send /help');
    // An unknown slash word with more text after it is a request for the agent, not a command.
    await h.adapter.say({ user: OWNER }, '/tmp is full, please clean it up');
    await h.adapter.waitForText(OWNER, 'echo: /tmp is full, please clean it up');
    await h.adapter.say({ user: OWNER }, '/whoami');
    await h.adapter.waitForText(OWNER, `Your telegram id: ${OWNER} (owner)`);
    await h.adapter.say({ user: OWNER }, 'first thread');
    await h.adapter.waitForText(OWNER, 'echo: first thread');
    await h.adapter.say({ user: OWNER }, '/new');
    await h.adapter.waitForText(OWNER, 'Started a new conversation');
    await h.adapter.say({ user: OWNER }, 'second thread');
    await h.adapter.waitForText(OWNER, 'echo: second thread');
    const threads = await h.threads();
    expect(threads).toHaveLength(2);
    expect(threads.filter((t) => t.archived)).toHaveLength(1);
    await h.adapter.say({ user: OWNER }, '/schedules');
    await h.adapter.waitForText(OWNER, 'later release');
    await h.adapter.say({ user: OWNER }, '/status');
    await h.adapter.waitForText(OWNER, 'Runtime: ok');
  });

  it('/stop cancels the running turn and the chat is told it stopped', async () => {
    const h = await harness();
    await h.adapter.say({ user: OWNER }, "!slow 400 a b c d e f g h");
    await h.adapter.waitFor(() => h.adapter.typings.length > 0 || undefined, 10_000, 'typing');
    await h.adapter.say({ user: OWNER }, '/stop');
    await h.adapter.waitForText(OWNER, "Stopping the current turn");
    await h.adapter.waitForText(OWNER, 'Stopped.');
  });

  it('/new during a running turn stops it and its queued ones, says so, and their replies never arrive later', async () => {
    const h = await harness();
    await h.adapter.say({ user: OWNER }, '!slow 150 old words that must never arrive here');
    await h.adapter.waitFor(() => h.adapter.typings.length > 0 || undefined, 10_000, 'typing');
    await h.adapter.say({ user: OWNER }, 'queued in the old thread');
    await h.adapter.say({ user: OWNER }, '/new');
    const started = await h.adapter.waitForText(OWNER, 'Started a new conversation');
    expect(started.text).toMatch(/^Stopped the running turn and 1 queued message\. Started a new conversation/);
    const old = (await h.threads()).find((t) => t.archived)!;
    await waitUntil(async () => (await h.rt.api('GET', `/v1/threads/${old.id}`)).body.status === 'idle');
    const turns = (await h.rt.api('GET', `/v1/threads/${old.id}`)).body.turns.map((t: { status: string }) => t.status);
    expect(turns).toEqual(['cancelled', 'cancelled']);
    await h.adapter.say({ user: OWNER }, 'in the new thread');
    await h.adapter.waitForText(OWNER, 'echo: in the new thread');
    expect(h.adapter.textsTo(OWNER).filter((t) => t.includes('must never arrive') || t.includes('echo: queued in the old thread'))).toEqual([]);
  });

  it('in groups: answers only addressed messages of allowed senders in a chat an owner paired', async () => {
    const h = await harness({ allowlist: [OWNER] });
    const group = { chat: '-100500', kind: 'group' as const };
    await h.adapter.say({ user: '9999', ...group }, 'stranger in group');
    await h.adapter.say({ user: OWNER, ...group }, 'not yet paired');
    await h.adapter.waitForText('-100500', 'not paired yet');
    await h.adapter.say({ user: OWNER, ...group }, '/pair');
    await h.adapter.waitForText('-100500', 'This group is paired');
    await h.adapter.say({ user: OWNER, ...group, addressed: false }, 'chatter');
    await h.adapter.say({ user: '9999', ...group }, 'stranger again');
    await h.adapter.say({ user: OWNER, ...group, topic: '7' }, 'in a topic');
    const reply = await h.adapter.waitForText('-100500', 'echo: in a topic');
    expect(reply.to.topicId).toBe('7');
    expect(h.adapter.textsTo('-100500')).toHaveLength(3);
    expect((await h.threads()).map((t) => t.metadata.conversation)).toEqual(['-100500:7']);
  });

  it('shows a progress line for a tool call, then the reply', async () => {
    const h = await harness({ env: { TETHER_APPROVAL: 'auto' } });
    await h.adapter.say({ user: OWNER }, '!tool shell {"command":"echo progress-run"}');
    await h.adapter.waitForText(OWNER, 'done: ');
    const texts = h.adapter.textsTo(OWNER);
    const progress = texts.findIndex((t) => t.startsWith('… shell') && t.includes('echo progress-run'));
    expect(progress).toBeGreaterThan(-1);
    expect(progress).toBeLessThan(texts.findIndex((t) => t.startsWith('done: ')));
  });

  it('re-chunks a message the platform calls too long, and retries transient failures with the same key', async () => {
    const h = await harness();
    h.adapter.failures.push(new DeliveryError({ kind: 'too_long' }, 'message is too long'), new DeliveryError({ kind: 'transient' }, 'socket hang up'));
    const text = Array.from({ length: 60 }, (_, i) => `t${i}`).join(' ');
    await h.adapter.say({ user: OWNER }, text);
    await h.adapter.waitFor(() => h.adapter.textsTo(OWNER).some((t) => t.includes('t59')) || undefined);
    const parts = h.adapter.textsTo(OWNER);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    expect(parts.join(' ')).toBe(`echo: ${text}`);
    const firstPart = h.adapter.attempts.filter((a) => a.text === parts[0]);
    expect(firstPart).toHaveLength(2);
    expect(firstPart[0]!.key).toBe(firstPart[1]!.key);
  });

  it('moves a conversation the platform moved, and keeps its thread', async () => {
    const h = await harness({ allowlist: [OWNER] });
    const group = { chat: '-500', kind: 'group' as const };
    const store = BridgeStore.open(h.rt.stateDir, 'telegram');
    store.allow({ kind: 'chat', id: '-500', role: 'user', addedBy: 'test', now: Date.now() });
    store.close();
    await h.adapter.say({ user: OWNER, ...group }, 'before the move');
    await h.adapter.waitForText('-500', 'echo: before the move');
    h.adapter.failures.push(new DeliveryError({ kind: 'moved', to: { platform: 'telegram', chatId: '-100500', kind: 'group' } }, 'group chat was upgraded to a supergroup chat'));
    await h.adapter.say({ user: OWNER, ...group }, 'during the move');
    const moved = await h.adapter.waitForText('-100500', 'echo: during the move');
    expect(moved.to.kind).toBe('group');
    await h.adapter.say({ user: OWNER, chat: '-100500', kind: 'group' }, 'after the move');
    await h.adapter.waitForText('-100500', 'echo: after the move');
    const threads = await h.threads();
    expect(threads).toHaveLength(1);
    // The runtime's metadata follows the move, so a lookup by the new id finds the same thread.
    const found = (await h.rt.api('GET', '/v1/threads?metadata.platform=telegram&metadata.conversation=-100500')).body.threads;
    expect(found.map((t: { id: string }) => t.id)).toEqual([threads[0]!.id]);
    expect(found[0].metadata).toEqual({ platform: 'telegram', bot: 'test', conversation: '-100500', chat_kind: 'group' });
    expect((await h.rt.api('GET', '/v1/threads?metadata.platform=telegram&metadata.conversation=-500')).body.threads).toEqual([]);
  });

  it('a move the platform announces updates the thread metadata, and a move while the runtime is away is fixed by the next message', async () => {
    const h = await harness({ allowlist: [OWNER] });
    const store = BridgeStore.open(h.rt.stateDir, 'telegram');
    for (const id of ['-600', '-601']) store.allow({ kind: 'chat', id, role: 'user', addedBy: 'test', now: Date.now() });
    store.close();
    const ref = (chatId: string) => ({ platform: 'telegram' as const, chatId, kind: 'group' as const });
    const byConversation = async (c: string) => (await h.rt.api('GET', `/v1/threads?metadata.platform=telegram&metadata.conversation=${c}`)).body.threads.map((t: { id: string }) => t.id);
    for (const chat of ['-600', '-601']) {
      await h.adapter.say({ user: OWNER, chat, kind: 'group' }, `hello ${chat}`);
      await h.adapter.waitForText(chat, `echo: hello ${chat}`);
    }
    const [first] = await byConversation('-600');
    const [second] = await byConversation('-601');

    const stream = await h.rt.events('/v1/events?after=0');
    await h.adapter.move(ref('-600'), ref('-100600'));
    await stream.waitFor((e) => e.event === 'thread.updated' && e.data.thread.metadata.conversation === '-100600');
    stream.close();
    expect(await byConversation('-100600')).toEqual([first]);
    expect(await byConversation('-600')).toEqual([]);

    await h.rt.stopRuntime();
    await h.adapter.move(ref('-601'), ref('-100601'));
    await h.adapter.say({ user: OWNER, chat: '-100601', kind: 'group' }, 'after the move');
    await h.adapter.waitForText('-100601', 'queued');
    expect(h.logs.some((l) => l.includes('thread metadata not updated after a move yet'))).toBe(true);
    await h.rt.restart();
    await h.adapter.waitForText('-100601', 'echo: after the move');
    expect(await byConversation('-100601')).toEqual([second]);
    expect(await byConversation('-601')).toEqual([]);
    expect((await h.threads()).length).toBe(2);
  });

  it('on its first start, does not replay turns the runtime finished before', async () => {
    const h = await harness();
    await h.adapter.say({ user: OWNER }, 'old news');
    await h.adapter.waitForText(OWNER, 'echo: old news');
    const fresh = await h.restartWithoutStore();
    await fresh.say({ user: OWNER }, 'fresh start', 'fresh:1');
    await fresh.waitForText(OWNER, 'echo: fresh start');
    expect(fresh.textsTo(OWNER)).toEqual(['echo: fresh start']);
  });

  it('after its store is lost, finds the conversation\'s thread again by metadata: one thread, the earlier turn in it', async () => {
    const h = await harness();
    await h.adapter.say({ user: OWNER }, 'remember this');
    await h.adapter.waitForText(OWNER, 'echo: remember this');
    const fresh = await h.restartWithoutStore();
    await fresh.say({ user: OWNER }, 'and now', 'fresh:1');
    await fresh.waitForText(OWNER, 'echo: and now');
    const threads = await h.threads();
    expect(threads).toHaveLength(1);
    const turns = (await h.rt.api('GET', `/v1/threads/${threads[0]!.id}`)).body.turns.map((t: { input: string }) => t.input);
    expect(turns).toEqual(['remember this', 'and now']);
  });

  it('with a runtime from before `reuse` (the field is refused), a conversation still finds its thread by metadata, or gets a new one', async () => {
    const h = await harness({ allowlist: [OWNER, '1002'] });
    await h.bridge.stop();
    const existing = await h.rt.newThread({ metadata: { platform: 'telegram', bot: 'test', conversation: OWNER, chat_kind: 'private' } });
    const real = createRuntimeClient({ url: h.rt.url, token: h.rt.token });
    cleanups.push(() => real.close());
    let refused = 0;
    const older: RuntimeClient = {
      ...real,
      createThread: async (body) => {
        if ('reuse' in body) {
          refused++;
          throw new RuntimeApiError(400, 'bad_request', 'field reuse: unknown; allowed fields are title, model, approval, metadata');
        }
        return real.createThread(body);
      },
    };
    const adapter = new RecordingAdapter();
    const config = loadBridgeConfig({ TETHER_STATE_DIR: h.rt.stateDir, TETHER_RUNTIME_URL: h.rt.url, TETHER_PROGRESS: 'off' });
    const bridge = await runBridge(adapter, { config, allowlist: [OWNER, '1002'], logger: createLogger('bridge', { level: 'error', write: () => {} }), identity: 'test', timing: FAST, client: older });
    cleanups.push(() => bridge.stop());
    await adapter.say({ user: OWNER }, 'to an old runtime');
    await adapter.waitForText(OWNER, 'echo: to an old runtime');
    await adapter.say({ user: '1002' }, 'a new chat');
    await adapter.waitForText('1002', 'echo: a new chat');
    expect(refused).toBe(2);
    const ids = async (conversation: string) => (await h.rt.api('GET', `/v1/threads?metadata.conversation=${conversation}`)).body.threads.map((t: { id: string }) => t.id);
    expect(await ids(OWNER)).toEqual([existing.id]);
    expect(await ids('1002')).toHaveLength(1);
  });

  it('follows a runtime whose state was reset, instead of waiting for an event number it will not reach again', async () => {
    const h = await harness();
    for (const word of ['one', 'two', 'three']) {
      await h.adapter.say({ user: OWNER }, word);
      await h.adapter.waitForText(OWNER, `echo: ${word}`);
    }
    await h.bridge.stop();
    await h.rt.stopRuntime();
    for (const f of ['runtime.db', 'runtime.db-wal', 'runtime.db-shm']) rmSync(`${h.rt.stateDir}/${f}`, { force: true });
    await h.rt.restart();
    const next = new RecordingAdapter();
    await h.start(next);
    await next.say({ user: OWNER }, 'after reset', 'reset:1');
    await next.waitForText(OWNER, 'echo: after reset');
    expect(h.logs.some((l) => l.includes('was its state reset'))).toBe(true);
  });

  it('knows no platform command (Telegram maps its /start itself), and explains that only text reaches the agent', async () => {
    const h = await harness();
    await h.adapter.say({ user: OWNER }, '/start');
    await h.adapter.waitForText(OWNER, 'There is no /start command');
    await h.adapter.say({ user: OWNER }, '   ');
    await h.adapter.waitForText(OWNER, 'Only text reaches the agent');
    expect(await h.threads()).toHaveLength(0);
  });

  it('answers a message without text once, saying why, and relays nothing of it', async () => {
    const h = await harness({ allowlist: [OWNER] });
    await h.adapter.say({ user: OWNER, unsupported: 'a photo' }, '', 'photo:1');
    await h.adapter.say({ user: OWNER, unsupported: 'a photo' }, '', 'photo:1');
    await h.adapter.waitForText(OWNER, 'that was a photo');
    // A later text's reply shows the redelivered photo was processed and not answered again.
    await h.adapter.say({ user: OWNER }, 'now in words');
    await h.adapter.waitForText(OWNER, 'echo: now in words');
    expect(h.adapter.textsTo(OWNER)).toEqual([unsupportedMessageText('a photo'), 'echo: now in words']);
    const [thread] = await h.threads();
    const turns = (await h.rt.api('GET', `/v1/threads/${thread!.id}`)).body.turns;
    expect(turns.map((t: { input: string }) => t.input)).toEqual(['now in words']);
  });

  it('a stranger sending a sticker gets only the access answer, and unaddressed media in a group is ignored', async () => {
    const h = await harness({ allowlist: [OWNER] });
    await h.adapter.say({ user: '666', unsupported: 'a sticker' }, '');
    const answer = await h.adapter.waitForText('666', /request code/);
    const store = BridgeStore.open(h.rt.stateDir, 'telegram');
    store.allow({ kind: 'chat', id: '-700', role: 'user', addedBy: 'test', now: Date.now() });
    store.close();
    const group = { chat: '-700', kind: 'group' as const };
    await h.adapter.say({ user: OWNER, ...group, addressed: false, unsupported: 'a voice message' }, '');
    await h.adapter.say({ user: '666', ...group, unsupported: 'a photo' }, '');
    await h.adapter.say({ user: OWNER, ...group, unsupported: 'a file' }, '');
    await h.adapter.waitForText('-700', 'that was a file');
    await h.adapter.say({ user: '666' }, 'anyone?');
    await h.adapter.say({ user: OWNER }, 'marker');
    await h.adapter.waitForText(OWNER, 'echo: marker');
    expect(h.adapter.textsTo('666')).toEqual([answer.text]);
    expect(h.adapter.textsTo('-700')).toEqual([unsupportedMessageText('a file')]);
    expect((await h.threads()).map((t) => t.metadata.conversation)).toEqual([OWNER]);
  });

  it('stops itself with the reason when the platform refuses the bridge for good', async () => {
    const h = await harness();
    h.adapter.failures.push(new DeliveryError({ kind: 'fatal', reason: 'Unauthorized: the bot token was revoked' }, 'Unauthorized'));
    await h.adapter.say({ user: OWNER }, 'anyone there?');
    await expect(h.bridge.stopped).resolves.toContain('the bot token was revoked');
    expect(h.bridge.health().state).toBe('failed');
    const { readFileSync } = await import('node:fs');
    expect(JSON.parse(readFileSync(`${h.rt.stateDir}/telegram.health.json`, 'utf8'))).toMatchObject({ state: 'failed', stopReason: expect.stringContaining('revoked') });
    // The lock is released: a new bridge may start.
    await h.start(new RecordingAdapter());
  });

  it('starts before the runtime ever wrote its token, keeps messages, and relays them in order once the runtime starts', async () => {
    const { mkdtempSync, existsSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const stateDir = mkdtempSync(`${tmpdir()}/tether-first-boot-`);
    cleanups.push(async () => rmSync(stateDir, { recursive: true, force: true }));
    const port = await freePort();
    const logs: string[] = [];
    const logger = createLogger('bridge', { level: 'debug', write: (l) => logs.push(l) });
    const config = loadBridgeConfig({ TETHER_STATE_DIR: stateDir, TETHER_RUNTIME_URL: `http://127.0.0.1:${port}`, TETHER_PROGRESS: 'off' });
    const adapter = new RecordingAdapter();
    const bridge = await runBridge(adapter, { config, allowlist: [OWNER], logger, identity: 'first-boot', timing: FAST });
    cleanups.push(() => bridge.stop());
    const warnings = logs.filter((l) => l.includes("the runtime's token is not there yet"));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 'warn', tokenFile: `${stateDir}/runtime.token` });
    expect(existsSync(`${stateDir}/runtime.token`)).toBe(false);

    await adapter.say({ user: OWNER }, 'first before the runtime');
    await adapter.say({ user: OWNER }, 'second before the runtime');
    await adapter.waitForText(OWNER, 'queued');
    const rt = await startTestRuntime({ TETHER_PORT: String(port), TETHER_STATE_DIR: stateDir });
    cleanups.push(() => rt.stop());
    await adapter.waitForText(OWNER, 'echo: second before the runtime');
    expect(adapter.textsTo(OWNER)).toEqual(['The agent is restarting; your message is queued and will be sent when it is back.', 'echo: first before the runtime', 'echo: second before the runtime']);
    expect(logs.filter((l) => l.includes("the runtime's token is not there yet"))).toHaveLength(1);
    await adapter.say({ user: OWNER }, 'and after');
    await adapter.waitForText(OWNER, 'echo: and after');
  });

  describe('with a state dir that takes no writes', () => {
    /** Starts the harness and hands back the bridge's own store, whose connection the test then limits. */
    async function harnessWithStore(o: Parameters<typeof harness>[0] = {}): Promise<{ h: Harness; store: BridgeStore }> {
      const open = BridgeStore.open;
      const opened: BridgeStore[] = [];
      BridgeStore.open = (dir, platform) => {
        const s = open.call(BridgeStore, dir, platform);
        opened.push(s);
        return s;
      };
      try {
        const h = await harness(o);
        return { h, store: opened[0]! };
      } finally {
        BridgeStore.open = open;
      }
    }

    const words = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag}${i}`).join(' ');

    it('full while a message waits: the bridge stays up, health says why, and everything is delivered once when space is freed', async () => {
      const { h, store } = await harnessWithStore({ timing: { storageRetryMaxMs: 100 } });
      await h.adapter.say({ user: OWNER }, 'warm up');
      await h.adapter.waitForText(OWNER, 'echo: warm up');
      await h.rt.stopRuntime();
      // Big enough that it and its reply need new pages: what a full disk cannot give.
      const waiting = words('w', 2500);
      await h.adapter.say({ user: OWNER }, waiting, 'full:1');
      store.db.exec('VACUUM');
      store.db.pragma(`max_page_count = ${store.db.pragma('page_count', { simple: true }) as number}`);
      const arriving = words('a', 2500);
      await expect(h.adapter.say({ user: OWNER }, arriving, 'full:2')).rejects.toMatchObject({ code: 'SQLITE_FULL' });
      const health = h.bridge.health();
      expect(health.state).toBe('not_accepting');
      expect(health.storage).toContain(`cannot write ${h.rt.stateDir}/telegram.db: the disk of the state dir is full (SQLITE_FULL)`);
      await h.rt.restart();
      // The turn is posted; its reply cannot be stored yet, and is retried, with the bridge up.
      await waitUntil(async () => (await h.threads()).length > 0 && (await h.rt.api('GET', `/v1/threads/${(await h.threads())[0]!.id}`)).body.turns.length === 2, 'the waiting message posted');
      await waitUntil(() => h.logs.filter((l) => l.includes('not accepting messages')).length > 0);
      expect(h.bridge.health().state).toBe('not_accepting');
      store.db.pragma('max_page_count = 1073741823');
      // The platform hands the unconfirmed message over again.
      await h.adapter.say({ user: OWNER }, arriving, 'full:2');
      await h.adapter.waitFor(() => h.adapter.textsTo(OWNER).join(' ').includes('a2499') || undefined, 15_000, 'the reply to the message that arrived while full');
      await h.adapter.waitFor(() => h.adapter.textsTo(OWNER).join(' ').includes('w2499') || undefined, 15_000, 'the reply to the message that waited');
      const all = h.adapter.textsTo(OWNER).join(' ');
      expect(all.split('w1234 ').length).toBe(2);
      expect(all.split('a1234 ').length).toBe(2);
      const [thread] = await h.threads();
      expect((await h.rt.api('GET', `/v1/threads/${thread!.id}`)).body.turns).toHaveLength(3);
      await waitUntil(() => h.bridge.health().state === 'running');
      expect(h.bridge.health().storage).toBeUndefined();
    });

    it('a reply the platform took, whose sent mark the disk refused, is marked later and never sent twice', async () => {
      const h = await harness({ timing: { storageRetryMaxMs: 50 } });
      const markSent = BridgeStore.prototype.markSent;
      let refusals = 0;
      BridgeStore.prototype.markSent = function (this: BridgeStore, ...args: Parameters<typeof markSent>) {
        if (refusals < 3) {
          refusals++;
          throw new Database.SqliteError('database or disk is full', 'SQLITE_FULL');
        }
        return markSent.apply(this, args);
      };
      cleanups.push(async () => {
        BridgeStore.prototype.markSent = markSent;
      });
      await h.adapter.say({ user: OWNER }, 'mark me once');
      await h.adapter.waitForText(OWNER, 'echo: mark me once');
      await waitUntil(() => refusals === 3 && h.bridge.health().outboxDepth === 0, 'the row marked sent');
      await h.adapter.say({ user: OWNER }, 'and the next');
      await h.adapter.waitForText(OWNER, 'echo: and the next');
      expect(h.adapter.attempts.map((a) => a.text)).toEqual(['echo: mark me once', 'echo: and the next']);
      expect(h.bridge.health().state).toBe('running');
    });

    it('read-only while a message waits for the runtime: no crash, not accepting, and it goes out once when writable again', async () => {
      const { h, store } = await harnessWithStore({ timing: { storageRetryMaxMs: 100 } });
      await h.adapter.say({ user: OWNER }, 'warm up');
      await h.adapter.waitForText(OWNER, 'echo: warm up');
      await h.rt.stopRuntime();
      await h.adapter.say({ user: OWNER }, 'waits while read-only', 'ro:1');
      // What chmod would do to a non-root bridge: every write refused, reads still fine.
      store.db.pragma('query_only = 1');
      await h.rt.restart();
      await expect(h.adapter.say({ user: OWNER }, 'sent while read-only', 'ro:2')).rejects.toMatchObject({ code: 'SQLITE_READONLY' });
      await waitUntil(() => h.bridge.health().state === 'not_accepting');
      expect(h.bridge.health().storage).toContain('the state dir is read-only (SQLITE_READONLY)');
      // The waiting message is posted (and retried: the runtime keeps its key) while its row cannot be finished.
      await waitUntil(async () => (await h.threads()).length === 1 && (await h.rt.api('GET', `/v1/threads/${(await h.threads())[0]!.id}`)).body.turns.length === 2, 'the waiting message posted');
      store.db.pragma('query_only = 0');
      await h.adapter.say({ user: OWNER }, 'sent while read-only', 'ro:2');
      await h.adapter.waitForText(OWNER, 'echo: sent while read-only');
      await h.adapter.waitForText(OWNER, 'echo: waits while read-only');
      const texts = h.adapter.textsTo(OWNER);
      expect(texts.filter((t) => t === 'echo: waits while read-only')).toHaveLength(1);
      expect(texts.filter((t) => t === 'echo: sent while read-only')).toHaveLength(1);
      const [thread] = await h.threads();
      expect((await h.rt.api('GET', `/v1/threads/${thread!.id}`)).body.turns.map((t: { input: string }) => t.input)).toEqual(['warm up', 'waits while read-only', 'sent while read-only']);
      await waitUntil(() => h.bridge.health().state === 'running');
    });
  });

  it('refuses a second bridge on the same bot while the first runs', async () => {
    const h = await harness();
    await expect(h.start(new RecordingAdapter())).rejects.toThrow(/another tether telegram \(pid \d+\) is running for this bot/);
  });
});
