// The Telegram bridge end to end in one process: fake Bot API ↔ grammY adapter ↔ core ↔ real runtime (fake model).
import { afterEach, describe, expect, it } from 'vitest';
import { runBridge, type RunningBridge } from '../../../bridges/core/bridge.js';
import type { BridgeTiming } from '../../../bridges/core/context.js';
import { unsupportedMessageText } from '../../../bridges/core/inbox.js';
import { createTelegramAdapter, type TelegramAdapter } from '../../../bridges/telegram/adapter.js';
import { loadTelegramConfig } from '../../../lib/config.js';
import { createLogger } from '../../../lib/log.js';
import { GENERAL_TOPIC_ID, TELEGRAM_ERRORS, startFakeTelegram, type FakeTelegram } from '../../fakes/telegram-bot-api.js';
import { startHangProxy, type HangProxy } from '../../support/hang-proxy.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { freePort } from '../../support/wait.js';

const FAST: Partial<BridgeTiming> = { queuedNoticeMs: 60_000, runtimeRetryMaxMs: 150, outboxPollMs: 100, sendRetryMaxMs: 300 };
const alice = { id: 1001, first_name: 'Alice' };
const bob = { id: 1002, first_name: 'Bob' };
const FORUM = -1001234567890;
const GROUP = -4242;


interface Stack {
  rt: TestRuntime;
  /** Between the bridge and the runtime. */
  proxy: HangProxy;
  fake: FakeTelegram;
  adapter: TelegramAdapter;
  bridge: RunningBridge;
  logs: string[];
  threads(): Promise<Array<{ id: string; metadata: Record<string, string>; archived: boolean }>>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function stack(o: { env?: Record<string, string>; allowlist?: string[]; timing?: Partial<BridgeTiming>; commands?: { command: string; description: string }[]; beforeStart?: (fake: FakeTelegram) => void; proxy?: HangProxy } = {}): Promise<Stack> {
  const port = await freePort();
  const rt = await startTestRuntime({ TETHER_PORT: String(port), ...o.env });
  cleanups.push(() => rt.stop());
  const proxy = await startHangProxy(rt);
  cleanups.push(() => proxy.close());
  const fake = await startFakeTelegram();
  cleanups.push(() => fake.close());
  o.beforeStart?.(fake);
  const logs: string[] = [];
  const logger = createLogger('bridge', { level: 'debug', write: (l) => logs.push(l) });
  const config = loadTelegramConfig({
    TELEGRAM_BOT_TOKEN: fake.token,
    TELEGRAM_API_ROOT: fake.url,
    TELEGRAM_ALLOWLIST: (o.allowlist ?? [String(alice.id)]).join(','),
    TETHER_STATE_DIR: rt.stateDir,
    // Through a proxy that can make the runtime look hung (accepting connections, answering nothing).
    TETHER_RUNTIME_URL: proxy.url,
    TETHER_TOKEN: rt.token,
    TETHER_PROGRESS: 'off',
  });
  const adapter = createTelegramAdapter(config, logger, { timing: { conflict: { minMs: 30, maxMs: 100 }, error: { minMs: 30, maxMs: 100 } }, ...(o.commands ? { commands: o.commands } : {}) });
  const me = await adapter.identify();
  const bridge = await runBridge(adapter, { config, allowlist: config.allowlist, logger, identity: String(me.id), timing: { ...FAST, ...o.timing } });
  cleanups.push(() => bridge.stop());
  return {
    rt,
    proxy,
    fake,
    adapter,
    bridge,
    logs,
    async threads() {
      return (await rt.api('GET', '/v1/threads?metadata.platform=telegram')).body.threads;
    },
  };
}

const texts = (fake: FakeTelegram, chat: number, thread?: number) => fake.sent(chat, thread).map((m) => m.text);

describe('telegram bridge end to end', () => {
  it('an allowlisted user gets the reply, in their chat, once', async () => {
    const s = await stack();
    s.fake.userSends(alice.id, 'hello', { from: alice });
    await s.fake.waitFor(() => texts(s.fake, alice.id).includes('echo: hello'), 15_000, 'the reply');
    expect(texts(s.fake, alice.id)).toEqual(['echo: hello']);
    expect(s.fake.callsOf('sendMessage').every((c) => c.params.parse_mode === undefined)).toBe(true);
    const threads = await s.threads();
    expect(threads.map((t) => t.metadata.conversation)).toEqual([String(alice.id)]);
  });

  it('a stranger gets their id and a request code once, and nothing reaches the runtime', async () => {
    const s = await stack();
    s.fake.userSends(bob.id, 'let me in', { from: bob });
    s.fake.userSends(bob.id, 'please', { from: bob });
    await s.fake.waitFor(() => s.fake.pendingUpdates() === 0 && s.fake.sent(bob.id).length === 1, 15_000);
    // A message from the owner afterwards proves the stranger's second message was processed too.
    s.fake.userSends(alice.id, 'marker', { from: alice });
    await s.fake.waitFor(() => texts(s.fake, alice.id).includes('echo: marker'), 15_000);
    const [answer] = texts(s.fake, bob.id);
    expect(texts(s.fake, bob.id)).toHaveLength(1);
    expect(answer).toContain(String(bob.id));
    expect(answer).toMatch(/request code: [2-9A-HJ-NP-Z]{8}/);
    expect(s.rt.model.requests.map((r) => JSON.stringify(r.body))).not.toContainEqual(expect.stringContaining('let me in'));
    expect((await s.threads()).map((t) => t.metadata.conversation)).toEqual([String(alice.id)]);
  });

  it('a 10,000-character reply arrives complete, in order, in chunks within 4096', async () => {
    const s = await stack();
    const paragraphs = Array.from({ length: 50 }, (_, i) => `Paragraph ${i + 1}: ` + 'lorem ipsum dolor sit amet, '.repeat(8).trim());
    const long = paragraphs.join('\n\n').slice(0, 10_000);
    expect([...long]).toHaveLength(10_000);
    s.rt.model.enqueue({ chunks: long.match(/[\s\S]{1,500}/g)! });
    s.fake.userSends(alice.id, 'write a lot', { from: alice });
    await s.fake.waitFor(() => texts(s.fake, alice.id).join('').replace(/\s+/g, '').length >= long.replace(/\s+/g, '').length, 20_000, 'all chunks');
    const chunks = texts(s.fake, alice.id);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    for (const c of chunks) expect([...c].length).toBeLessThanOrEqual(4096);
    expect(chunks.join('').replace(/\s+/g, '')).toBe(long.replace(/\s+/g, ''));
    expect(s.fake.callsOf('sendMessage').filter((c) => !c.ok)).toEqual([]);
  });

  it('a reply ending in blank lines and spaces loses nothing: no empty chunk, and the next reply still arrives', async () => {
    const s = await stack();
    const body = 'a'.repeat(3993);
    s.rt.model.enqueue({ chunks: [body, '\n\n   '] });
    s.fake.userSends(alice.id, 'first', { from: alice });
    s.fake.userSends(alice.id, 'second', { from: alice });
    await s.fake.waitFor(() => texts(s.fake, alice.id).includes('echo: second'), 15_000, 'the second reply');
    expect(texts(s.fake, alice.id)).toEqual([body, 'echo: second']);
    expect(s.fake.callsOf('sendMessage').filter((c) => !c.ok)).toEqual([]);
  });

  it('a message Telegram refuses for itself is dropped alone: the rest of the conversation is still delivered', async () => {
    const s = await stack();
    s.fake.fail({ method: 'sendMessage', error_code: 400, description: TELEGRAM_ERRORS.textEmpty, when: (p) => p.text === 'echo: refused' });
    s.fake.userSends(alice.id, 'refused', { from: alice });
    s.fake.userSends(alice.id, 'kept', { from: alice });
    await s.fake.waitFor(() => texts(s.fake, alice.id).includes('echo: kept'), 15_000, 'the reply after the refused one');
    expect(texts(s.fake, alice.id)).toEqual(['echo: kept']);
    expect(s.fake.callsOf('sendMessage').filter((c) => c.params.text === 'echo: refused')).toHaveLength(1);
    expect(s.logs.some((l) => l.includes('the platform refused one message'))).toBe(true);
    expect(s.logs.some((l) => l.includes('conversation is gone'))).toBe(false);
  });

  it('General and topic 7 are answered in their own place', async () => {
    const s = await stack({ allowlist: [String(alice.id), String(FORUM)] });
    s.fake.createSupergroup(FORUM, 'Forum', { forum: true });
    s.fake.createTopic(FORUM, 'Work', { id: 7 });
    s.fake.userSends(FORUM, '@tether_test_bot in general', { from: alice });
    s.fake.userSends(FORUM, '@tether_test_bot in seven', { from: alice, thread: 7 });
    await s.fake.waitFor(() => s.fake.sent(FORUM).length === 2, 15_000);
    expect(texts(s.fake, FORUM, GENERAL_TOPIC_ID)).toEqual(['echo: in general']);
    expect(texts(s.fake, FORUM, 7)).toEqual(['echo: in seven']);
    expect((await s.threads()).map((t) => t.metadata.conversation).sort()).toEqual([String(FORUM), `${FORUM}:7`].sort());
  });

  it("a closed topic's reply never lands elsewhere", async () => {
    const s = await stack({ allowlist: [String(alice.id), String(FORUM)] });
    s.fake.createSupergroup(FORUM, 'Forum', { forum: true });
    s.fake.createTopic(FORUM, 'Work', { id: 7 });
    s.fake.userSends(FORUM, '@tether_test_bot !slow 150 one two three', { from: alice, thread: 7 });
    await s.rt.model.waitForRequests(1, 10_000);
    s.fake.closeTopic(FORUM, 7);
    await s.fake.waitFor(() => s.fake.callsOf('sendMessage').some((c) => c.description === TELEGRAM_ERRORS.topicClosed), 15_000, 'the refused send');
    // Another conversation's reply shows the sender moved on rather than retrying into the closed topic.
    s.fake.userSends(alice.id, 'marker', { from: alice });
    await s.fake.waitFor(() => texts(s.fake, alice.id).includes('echo: marker'), 15_000);
    expect(s.fake.sent(FORUM)).toEqual([]);
    expect(s.fake.callsOf('sendMessage').filter((c) => Number(c.params.chat_id) === FORUM).every((c) => c.params.message_thread_id === 7)).toBe(true);
  });

  it('survives a 429 (retry_after 1) and three 409s with each reply sent exactly once', async () => {
    const s = await stack();
    s.fake.fail({ method: 'sendMessage', error_code: 429, description: TELEGRAM_ERRORS.tooManyRequests(1), parameters: { retry_after: 1 } });
    s.fake.fail({ method: 'getUpdates', error_code: 409, description: TELEGRAM_ERRORS.pollConflict, times: 3 });
    s.fake.userSends(alice.id, 'one', { from: alice });
    s.fake.userSends(alice.id, 'two', { from: alice });
    await s.fake.waitFor(() => texts(s.fake, alice.id).length === 2, 20_000, 'both replies');
    expect(texts(s.fake, alice.id)).toEqual(['echo: one', 'echo: two']);
    const sends = s.fake.callsOf('sendMessage');
    expect(sends.map((c) => [c.params.text, c.errorCode ?? 200])).toEqual([
      ['echo: one', 429],
      ['echo: one', 200],
      ['echo: two', 200],
    ]);
    expect(sends[1]!.at - sends[0]!.at).toBeGreaterThanOrEqual(950);
    expect(s.adapter.health!()).toMatchObject({ conflicts: 3, state: 'polling' });
  });

  it('a runtime restart mid-turn is told once, and the next message works', async () => {
    const s = await stack();
    s.fake.userSends(alice.id, '!slow 300 a b c d e f', { from: alice });
    await s.rt.model.waitForRequests(1, 10_000);
    await s.rt.restart();
    await s.fake.waitFor(() => s.fake.sent(alice.id).length === 1, 20_000, 'the interruption notice');
    expect(texts(s.fake, alice.id)[0]).toMatch(/restarted/);
    s.fake.userSends(alice.id, 'again', { from: alice });
    await s.fake.waitFor(() => texts(s.fake, alice.id).includes('echo: again'), 20_000);
    expect(texts(s.fake, alice.id)).toHaveLength(2);
  });

  it('a photo without a caption is answered once with why; with a caption, the caption is the turn', async () => {
    const s = await stack({ allowlist: [String(alice.id), String(GROUP)] });
    const photo = [{ file_id: 'f1', file_unique_id: 'u1', width: 90, height: 90 }];
    s.fake.userSendsMedia(alice.id, { photo }, { from: alice });
    await s.fake.waitFor(() => texts(s.fake, alice.id).length === 1, 15_000, 'the answer to the photo');
    s.fake.userSendsMedia(alice.id, { photo, caption: 'what is in it?' }, { from: alice });
    await s.fake.waitFor(() => texts(s.fake, alice.id).includes('echo: what is in it?'), 15_000, 'the reply to the caption');
    expect(texts(s.fake, alice.id)).toEqual([unsupportedMessageText('a photo'), 'echo: what is in it?']);
    // In a group, a voice message nobody addressed to the bot is not answered at all.
    s.fake.createGroup(GROUP, 'Team');
    s.fake.userSendsMedia(GROUP, { voice: { file_id: 'v1', file_unique_id: 'uv1', duration: 2 } }, { from: alice });
    s.fake.userSends(GROUP, '@tether_test_bot marker', { from: alice });
    await s.fake.waitFor(() => texts(s.fake, GROUP).includes('echo: marker'), 15_000);
    expect(texts(s.fake, GROUP)).toEqual(['echo: marker']);
    const [thread] = (await s.threads()).filter((t) => t.metadata.conversation === String(alice.id));
    const turns: { input: string }[] = (await s.rt.api('GET', `/v1/threads/${thread!.id}`)).body.turns;
    expect(turns.map((t) => t.input)).toEqual(['what is in it?']);
  });

  it('in a group only messages for the bot become turns', async () => {
    const s = await stack({ allowlist: [String(alice.id), String(GROUP)] });
    s.fake.createGroup(GROUP, 'Team');
    s.fake.userSends(GROUP, 'chatter between people', { from: alice });
    s.fake.userSends(GROUP, '@tether_test_bot first', { from: alice });
    await s.fake.waitFor(() => texts(s.fake, GROUP).length === 1, 15_000);
    const [reply] = s.fake.sent(GROUP);
    s.fake.userSends(GROUP, 'second by reply', { from: alice, replyTo: reply!.messageId });
    s.fake.userSends(GROUP, '@tether_test_bot from a stranger', { from: bob });
    s.fake.userSends(GROUP, '/whoami@other_bot', { from: alice });
    s.fake.userSends(GROUP, '/whoami@tether_test_bot', { from: alice });
    // Commands are answered at once, turns when they finish: wait for both, then check nothing else was said.
    await s.fake.waitFor(() => texts(s.fake, GROUP).includes('echo: second by reply') && texts(s.fake, GROUP).some((t) => t.startsWith('Your telegram id')), 15_000);
    const said = texts(s.fake, GROUP);
    expect(said).toHaveLength(3);
    expect(said[0]).toBe('echo: first');
    expect(said.find((t) => t.startsWith('Your telegram id'))).toContain(String(alice.id));
    const prompts = s.rt.model.requests.map((r) => JSON.stringify(r.body));
    expect(prompts.some((p) => p.includes('chatter between people') || p.includes('from a stranger'))).toBe(false);
  });

  it('a command for another bot is not run by ours, even as a reply to our bot; /cmd@our_bot is', async () => {
    const s = await stack({ allowlist: [String(alice.id), String(GROUP)] });
    s.fake.createGroup(GROUP, 'Team');
    s.fake.userSends(GROUP, '@tether_test_bot hello', { from: alice });
    const ours = await s.fake.waitFor(() => s.fake.sent(GROUP).find((m) => m.text === 'echo: hello'), 15_000, 'the first reply');
    s.fake.userSends(GROUP, '/new@other_bot', { from: alice, replyTo: ours.messageId });
    s.fake.userSends(GROUP, '/approve@other_bot', { from: alice, replyTo: ours.messageId });
    s.fake.userSends(GROUP, '/whoami@tether_test_bot', { from: alice });
    s.fake.userSends(GROUP, '@tether_test_bot marker', { from: alice });
    await s.fake.waitFor(() => texts(s.fake, GROUP).includes('echo: marker'), 15_000, 'the marker reply');
    const said = texts(s.fake, GROUP);
    expect(said).toHaveLength(3);
    expect(said[1]).toContain(`Your telegram id: ${alice.id}`);
    // One thread, never archived: /new@other_bot did not start a new conversation here.
    expect((await s.threads()).map((t) => t.archived)).toEqual([false]);
    expect(s.rt.model.requests.map((r) => JSON.stringify(r.body)).some((b) => b.includes('other_bot'))).toBe(false);
  });

  it('a message that starts with a path reaches the agent; a bare unknown /word gets the command help', async () => {
    const s = await stack();
    s.fake.userSends(alice.id, '/tmp is full, please clean it up', { from: alice });
    s.fake.userSends(alice.id, '/frobnicate', { from: alice });
    await s.fake.waitFor(() => texts(s.fake, alice.id).length === 2, 15_000, 'both answers');
    expect(texts(s.fake, alice.id).sort()).toEqual(['There is no /frobnicate command. Send /help for the list.', 'echo: /tmp is full, please clean it up'].sort());
  });

  it('a group upgraded mid-turn gets the reply in the supergroup', async () => {
    const s = await stack({ allowlist: [String(alice.id), String(GROUP), '-1004242'] });
    s.fake.createGroup(GROUP, 'Team');
    s.fake.userSends(GROUP, '@tether_test_bot !slow 100 moved along', { from: alice });
    await s.rt.model.waitForRequests(1, 10_000);
    s.fake.migrateGroup(GROUP, -1004242);
    await s.fake.waitFor(() => texts(s.fake, -1004242).length === 1, 15_000, 'the reply in the supergroup');
    expect(texts(s.fake, -1004242)).toEqual(['moved along']);
    expect(texts(s.fake, GROUP)).toEqual([]);
    // The runtime thread now names the supergroup, so a lookup by the new id finds it.
    const stream = await s.rt.events('/v1/events?after=0');
    await stream.waitFor((e) => e.event === 'thread.updated' && e.data.thread.metadata.conversation === '-1004242', 10_000);
    stream.close();
    const found = (await s.rt.api('GET', '/v1/threads?metadata.platform=telegram&metadata.conversation=-1004242')).body.threads;
    expect(found).toHaveLength(1);
    expect(found[0].metadata).toEqual({ platform: 'telegram', bot: String((await s.adapter.identify()).id), conversation: '-1004242', chat_kind: 'group' });
    expect((await s.threads()).map((t) => t.id)).toEqual([found[0].id]);
  });

  it('a 429 on typing holds the chat: no typing until retry_after is over, and the reply still arrives', async () => {
    const s = await stack({ timing: { typingIntervalMs: 100 } });
    s.fake.fail({ method: 'sendChatAction', error_code: 429, description: TELEGRAM_ERRORS.tooManyRequests(2), parameters: { retry_after: 2 } });
    // About 5 s of turn: the hold (2 s) and the chat's refill after it (typing leaves a reply its token) both fit.
    s.fake.userSends(alice.id, '!slow 200 one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty and five more words here', { from: alice });
    await s.fake.waitFor(() => texts(s.fake, alice.id).some((t) => t.includes('words here')), 15_000, 'the reply');
    const typing = s.fake.callsOf('sendChatAction');
    expect(typing[0]!.ok).toBe(false);
    expect(typing.length).toBeGreaterThan(1);
    // Before, typing went again one interval later (and then every interval) into a flooded chat.
    expect(typing[1]!.at - typing[0]!.at).toBeGreaterThanOrEqual(1950);
    expect(typing.filter((c) => !c.ok)).toHaveLength(1);
  });

  it('a 429 on the approval edit and on a button answer waits retry_after and repeats that request only', async () => {
    const s = await stack({ env: { TETHER_APPROVAL: 'ask' } });
    s.fake.userSends(alice.id, '!tool shell {"command":"echo flood-run"}', { from: alice });
    const prompt = await s.fake.waitFor(() => s.fake.sent(alice.id).find((m) => m.replyMarkup !== undefined), 15_000, 'the approval prompt');
    const data = (prompt.replyMarkup as { inline_keyboard: { callback_data: string }[][] }).inline_keyboard[0]![0]!.callback_data;
    s.fake.fail({ method: 'answerCallbackQuery', error_code: 429, description: TELEGRAM_ERRORS.tooManyRequests(1), parameters: { retry_after: 1 } });
    s.fake.fail({ method: 'editMessageText', error_code: 429, description: TELEGRAM_ERRORS.tooManyRequests(1), parameters: { retry_after: 1 } });
    const press = s.fake.userPresses(alice.id, prompt.messageId, data, alice);
    await s.fake.waitFor(() => s.fake.callbackAnswer(press)?.answered, 10_000, 'the button answer');
    await s.fake.waitFor(() => s.fake.callsOf('editMessageText').some((c) => c.ok), 10_000, 'the prompt edited');
    const answers = s.fake.callsOf('answerCallbackQuery');
    expect(answers.map((c) => c.ok)).toEqual([false, true]);
    expect(answers[1]!.params).toEqual(answers[0]!.params);
    expect(answers[1]!.at - answers[0]!.at).toBeGreaterThanOrEqual(950);
    const edits = s.fake.callsOf('editMessageText');
    expect(edits.map((c) => c.ok)).toEqual([false, true]);
    expect(edits[1]!.params).toEqual(edits[0]!.params);
    expect(edits[1]!.at - edits[0]!.at).toBeGreaterThanOrEqual(950);
    expect(s.fake.callsOf('editMessageReplyMarkup')).toEqual([]);
    expect(s.fake.sent(alice.id).find((m) => m.messageId === prompt.messageId)!.replyMarkup).toBeUndefined();
  });

  it('a 429 on setMyCommands at start waits retry_after and registers the menu', async () => {
    const s = await stack({
      commands: [{ command: 'help', description: 'what this bot can do' }],
      beforeStart: (fake) => fake.fail({ method: 'setMyCommands', error_code: 429, description: TELEGRAM_ERRORS.tooManyRequests(1), parameters: { retry_after: 1 } }),
    });
    const calls = s.fake.callsOf('setMyCommands');
    expect(calls.map((c) => c.ok)).toEqual([false, true]);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('a 4,100-character command shows its tail before the message with the buttons, every message within 4096', async () => {
    const s = await stack({ env: { TETHER_APPROVAL: 'ask' } });
    const command = `echo ${'x'.repeat(4060)} > /dev/null; touch HIDDEN_TAIL_RAN`;
    expect([...command]).toHaveLength(4100);
    s.rt.model.enqueue({ toolCalls: [{ name: 'shell', arguments: { command } }] });
    s.fake.userSends(alice.id, 'clean up', { from: alice });
    const buttons = await s.fake.waitFor(() => s.fake.sent(alice.id).find((m) => m.replyMarkup !== undefined), 15_000, 'the message with the buttons');
    const sent = s.fake.sent(alice.id);
    const tail = sent.find((m) => m.text.includes('touch HIDDEN_TAIL_RAN') && m.replyMarkup === undefined);
    expect(tail, 'the tail in a message of its own').toBeDefined();
    expect(tail!.messageId).toBeLessThan(buttons.messageId);
    const before = sent.filter((m) => m.messageId < buttons.messageId);
    expect(before.map((m) => m.text).join('').replace(/\s+/g, '')).toContain(`$ ${command}`.replace(/\s+/g, ''));
    for (const m of sent) expect([...m.text].length).toBeLessThanOrEqual(4096);
    expect(buttons.text).toContain('4,102 characters in the 2 messages above');
    expect(buttons.text).toContain('touch HIDDEN_TAIL_RAN');
    expect(s.fake.callsOf('sendMessage').filter((c) => !c.ok)).toEqual([]);
  });

  it('a reply opening a fence with a 5,000-character "language" arrives in at most ⌈length / 3900⌉ + 1 messages, and /status is answered right after it', async () => {
    const s = await stack();
    const reply = '```' + 'z'.repeat(5000) + '\nprint("hi")\n```';
    s.rt.model.enqueue({ chunks: [reply] });
    s.fake.userSends(alice.id, 'show me', { from: alice });
    await s.fake.waitFor(() => s.fake.sent(alice.id).length > 0, 15_000, 'the first part of the reply');
    s.fake.userSends(alice.id, '/status', { from: alice });
    // The answer queues behind the reply's parts in the same chat: it comes within seconds only if they are few.
    await s.fake.waitFor(() => texts(s.fake, alice.id).some((t) => t.startsWith('Runtime:')), 10_000, 'the /status answer');
    const parts = texts(s.fake, alice.id).filter((t) => !t.startsWith('Runtime:'));
    expect(parts.length).toBeLessThanOrEqual(Math.ceil([...reply].length / 3900) + 1);
    for (const t of texts(s.fake, alice.id)) expect([...t].length).toBeLessThanOrEqual(4096);
    expect(parts.join('\n')).toContain('print("hi")');
    expect(s.fake.callsOf('sendMessage').filter((c) => !c.ok)).toEqual([]);
  });

  it("a stopped turn's prompt loses its buttons and says it expired; a press on it says so too", async () => {
    const s = await stack({ env: { TETHER_APPROVAL: 'ask' } });
    s.fake.userSends(alice.id, '!tool shell {"command":"echo never-run"}', { from: alice });
    const prompt = await s.fake.waitFor(() => s.fake.sent(alice.id).find((m) => m.replyMarkup !== undefined), 15_000, 'the approval prompt');
    const data = (prompt.replyMarkup as { inline_keyboard: { callback_data: string }[][] }).inline_keyboard[0]![0]!.callback_data;
    s.fake.userSends(alice.id, '/stop', { from: alice });
    const closed = await s.fake.waitFor(() => s.fake.sent(alice.id).find((m) => m.messageId === prompt.messageId && m.replyMarkup === undefined), 15_000, 'the prompt closed');
    expect(closed.text).toBe('shell: $ echo never-run\n\n→ expired: its turn was stopped before anyone decided');
    const press = s.fake.userPresses(alice.id, prompt.messageId, data, alice);
    await s.fake.waitFor(() => s.fake.callbackAnswer(press)?.answered, 10_000, 'the button answer');
    expect(s.fake.callbackAnswer(press)!.text).toMatch(/^That approval expired: its turn was stopped before anyone decided/);
    expect(s.rt.model.requests.filter((r) => JSON.stringify(r.body).includes('"role":"tool"'))).toHaveLength(0);
  });

  it('with the runtime hung, button presses do not stop the bridge receiving: a stranger is answered at once, each press within the answer window', async () => {
    const s = await stack({ env: { TETHER_APPROVAL: 'ask' }, timing: { pressAnswerMs: 500 } });
    s.fake.userSends(alice.id, '!tool shell {"command":"echo hung-run"}', { from: alice });
    const prompt = await s.fake.waitFor(() => s.fake.sent(alice.id).find((m) => m.replyMarkup !== undefined), 15_000, 'the approval prompt');
    const data = (prompt.replyMarkup as { inline_keyboard: { callback_data: string }[][] }).inline_keyboard[0]![0]!.callback_data;
    s.proxy.hang();
    const presses = [1, 2, 3].map(() => s.fake.userPresses(alice.id, prompt.messageId, data, alice));
    s.fake.userSends(bob.id, 'anyone there?', { from: bob });
    // Before, the poll loop waited for the runtime's answer to the press (30 s each), and the stranger with it.
    await s.fake.waitFor(() => s.fake.sent(bob.id).length === 1, 3_000, "the stranger's answer");
    await s.fake.waitFor(() => presses.every((p) => s.fake.callbackAnswer(p)?.answered), 3_000, 'every press answered');
    expect(presses.map((p) => s.fake.callbackAnswer(p)!.text)).toEqual([
      'Received. The agent is slow to answer; the result follows in this chat.',
      'Already received: it is decided as soon as the agent answers.',
      'Already received: it is decided as soon as the agent answers.',
    ]);
    s.proxy.resume();
    await s.fake.waitFor(() => texts(s.fake, alice.id).some((t) => t.startsWith('done:')), 45_000, 'the tool result');
    expect(texts(s.fake, alice.id).filter((t) => t === 'Approved: shell runs now.')).toHaveLength(1);
    expect(s.rt.model.requests.filter((r) => JSON.stringify(r.body).includes('"role":"tool"'))).toHaveLength(1);
  });

  it('approval buttons work in their conversation only, and once', async () => {
    const s = await stack({ env: { TETHER_APPROVAL: 'ask' }, allowlist: [String(alice.id), String(bob.id)] });
    s.fake.userSends(alice.id, '!tool shell {"command":"echo approved-run"}', { from: alice });
    const prompt = await s.fake.waitFor(() => s.fake.sent(alice.id).find((m) => m.replyMarkup !== undefined), 15_000, 'the approval prompt');
    expect(prompt.text).toContain('echo approved-run');
    const data = (prompt.replyMarkup as { inline_keyboard: { callback_data: string }[][] }).inline_keyboard[0]![0]!.callback_data;
    expect(data).toMatch(/^ap:.+:a$/);

    // The same button data pressed in another conversation must not decide it.
    s.fake.userSends(bob.id, 'hi', { from: bob });
    const bobMsg = await s.fake.waitFor(() => s.fake.sent(bob.id).find((m) => m.text === 'echo: hi'), 15_000);
    const elsewhere = s.fake.userPresses(bob.id, bobMsg.messageId, data, bob);
    await s.fake.waitFor(() => s.fake.callbackAnswer(elsewhere)?.answered, 10_000);

    const press = s.fake.userPresses(alice.id, prompt.messageId, data, alice);
    await s.fake.waitFor(() => s.fake.callbackAnswer(press)?.answered, 10_000);
    await s.fake.waitFor(() => texts(s.fake, alice.id).some((t) => t.startsWith('done:')), 15_000, 'the tool result');
    const again = s.fake.userPresses(alice.id, prompt.messageId, data, alice);
    await s.fake.waitFor(() => s.fake.callbackAnswer(again)?.answered, 10_000);

    const decided = s.fake.sent(alice.id).find((m) => m.messageId === prompt.messageId)!;
    expect(decided.replyMarkup).toBeUndefined();
    expect(decided.text).not.toBe(prompt.text);
    expect(texts(s.fake, alice.id).filter((t) => t.startsWith('done:'))).toHaveLength(1);
    expect(s.rt.model.requests.filter((r) => JSON.stringify(r.body).includes('"role":"tool"'))).toHaveLength(1);
  });
});
