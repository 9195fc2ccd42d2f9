// The Telegram adapter against the fake Bot API with real grammY: polling, confirmation, gating, topics, failures, buttons.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadTelegramConfig } from '../../../lib/config.js';
import { createLogger } from '../../../lib/log.js';
import { DeliveryError, type ConversationRef, type InboundAction, type InboundMessage } from '../../../bridges/core/adapter.js';
import { createTelegramAdapter, type TelegramAdapter } from '../../../bridges/telegram/adapter.js';
import { GENERAL_TOPIC_ID, TELEGRAM_ERRORS, startFakeTelegram, type FakeTelegram } from '../../fakes/telegram-bot-api.js';

const alice = { id: 1001, first_name: 'Alice' };
const bob = { id: 1002, first_name: 'Bob' };
const FORUM = -1001234567890;

let fake: FakeTelegram;
let adapter: TelegramAdapter;
let stateDir: string;
let logs: string[];
let messages: InboundMessage[];
let actions: InboundAction[];
let moves: [ConversationRef, ConversationRef][];
let fatal: string[];
/** The core fails to store this many moves first. */
let moveFailures = 0;
let onMessage: (m: InboundMessage) => Promise<void>;
let onAction: (a: InboundAction) => Promise<void>;

const quick = { pollTimeoutS: 30, watchdogGraceMs: 30_000, conflict: { minMs: 20, maxMs: 80 }, error: { minMs: 20, maxMs: 80 } };

function makeAdapter(timing: Partial<typeof quick> = quick, token = fake.token): TelegramAdapter {
  const config = loadTelegramConfig({ TELEGRAM_BOT_TOKEN: token, TELEGRAM_API_ROOT: fake.url, TETHER_STATE_DIR: stateDir });
  const logger = createLogger('test', { level: 'debug', write: (l) => logs.push(l) });
  return createTelegramAdapter(config, logger, { timing, commands: [{ command: 'help', description: 'what Tether can do' }], onFatal: (r) => fatal.push(r) });
}

async function startAdapter(timing?: Partial<typeof quick>): Promise<void> {
  adapter = makeAdapter(timing);
  await adapter.start({
    onMessage: (m) => onMessage(m),
    onAction: (a) => onAction(a),
    onConversationMoved: async (from, to) => {
      if (moveFailures-- > 0) throw new Error('disk full');
      moves.push([from, to]);
    },
  });
}

function to(chatId: number, kind: ConversationRef['kind'], topicId?: number): ConversationRef {
  return { platform: 'telegram', chatId: String(chatId), kind, ...(topicId !== undefined ? { topicId: String(topicId) } : {}) };
}

async function failureOf(p: Promise<unknown>): Promise<DeliveryError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DeliveryError) return err;
    throw err;
  }
  throw new Error('expected a DeliveryError');
}

beforeEach(async () => {
  fake = await startFakeTelegram();
  stateDir = mkdtempSync(join(tmpdir(), 'tether-tg-'));
  logs = [];
  messages = [];
  actions = [];
  moves = [];
  moveFailures = 0;
  fatal = [];
  onMessage = async (m) => {
    messages.push(m);
  };
  onAction = async (a) => {
    actions.push(a);
  };
});

afterEach(async () => {
  await adapter?.stop();
  await fake.close();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('receiving', () => {
  it('hands a private message over with a stable dedupe key and registers the command menu', async () => {
    await startAdapter();
    fake.userSends(alice.id, '  hello there ', { from: alice });
    await fake.waitFor(() => messages.length === 1);
    const [m] = messages;
    expect(m).toMatchObject({ conversation: to(alice.id, 'private'), sender: { id: '1001', name: 'Alice' }, text: 'hello there', addressed: true });
    expect(m?.dedupeKey).toMatch(new RegExp(`^${fake.bot.id}:\\d+$`));
    expect(fake.commands).toEqual([{ command: 'help', description: 'what Tether can do' }]);
    expect(fake.callsOf('getUpdates')[0]?.params.allowed_updates).toEqual(['message', 'callback_query', 'my_chat_member']);
  });

  it('confirms an update only after the core has stored it', async () => {
    let release!: () => void;
    onMessage = (m) =>
      new Promise<void>((resolve) => {
        messages.push(m);
        release = resolve;
      });
    await startAdapter();
    fake.userSends(alice.id, 'keep me', { from: alice });
    await fake.waitFor(() => messages.length === 1);
    expect(fake.pendingUpdates()).toBe(1);
    const pollsBefore = fake.callCount('getUpdates');
    release();
    await fake.waitFor(() => fake.pendingUpdates() === 0 && fake.isPolling());
    expect(fake.callCount('getUpdates')).toBe(pollsBefore + 1);
  });

  it('fetches an update again when the core failed to store it', async () => {
    let failures = 1;
    onMessage = async (m) => {
      messages.push(m);
      if (failures-- > 0) throw new Error('disk full');
    };
    await startAdapter();
    fake.userSends(alice.id, 'retry me', { from: alice });
    await fake.waitFor(() => messages.length === 2 && fake.pendingUpdates() === 0);
    expect(messages[0]?.dedupeKey).toBe(messages[1]?.dedupeKey);
  });

  it('ignores messages from bots', async () => {
    await startAdapter();
    fake.createGroup(-5, 'Team');
    fake.userSends(-5, '@tether_test_bot hi', { from: { id: 77, first_name: 'Other', is_bot: true } });
    fake.userSends(alice.id, 'after', { from: alice });
    await fake.waitFor(() => messages.length === 1);
    expect(messages.map((m) => m.text)).toEqual(['after']);
  });

  it('keeps General and each topic apart as conversations', async () => {
    fake.createSupergroup(FORUM, 'Forum', { forum: true });
    fake.createTopic(FORUM, 'Work', { id: 7 });
    await startAdapter();
    fake.userSends(FORUM, '@tether_test_bot general', { from: alice });
    fake.userSends(FORUM, '@tether_test_bot topic', { from: alice, thread: 7 });
    await fake.waitFor(() => messages.length === 2);
    expect(messages.map((m) => [m.conversation.chatId, m.conversation.topicId, m.text])).toEqual([
      [String(FORUM), undefined, 'general'],
      [String(FORUM), '7', 'topic'],
    ]);
  });

  it('hands media without a caption over as unsupported, naming what it was; a caption is text; service messages stay out', async () => {
    fake.createGroup(-77, 'Team');
    await startAdapter();
    const file = { file_id: 'f1', file_unique_id: 'u1' };
    fake.userSendsMedia(alice.id, { photo: [{ ...file, width: 90, height: 90 }] }, { from: alice });
    fake.userSendsMedia(alice.id, { sticker: { ...file, type: 'regular', width: 512, height: 512, is_animated: false, is_video: false, emoji: '👍' } }, { from: alice });
    fake.userSendsMedia(alice.id, { voice: { ...file, duration: 3 } }, { from: alice });
    fake.userSendsMedia(alice.id, { document: { ...file, file_name: 'notes.pdf' } }, { from: alice });
    fake.userSendsMedia(alice.id, { location: { latitude: 52.5, longitude: 13.4 } }, { from: alice });
    fake.userSendsMedia(alice.id, { photo: [{ ...file, width: 90, height: 90 }], caption: ' what is this? ' }, { from: alice });
    fake.injectUpdate({ message: { message_id: 900, chat: { id: -77, type: 'group', title: 'Team' }, from: alice, date: Math.floor(Date.now() / 1000), new_chat_title: 'Team 2' } });
    fake.userSends(alice.id, 'marker', { from: alice });
    await fake.waitFor(() => messages.some((m) => m.text === 'marker'));
    expect(messages.map((m) => [m.text, m.unsupported])).toEqual([
      ['', 'a photo'],
      ['', 'a sticker'],
      ['', 'a voice message'],
      ['', 'a file'],
      ['', 'a location'],
      ['what is this?', undefined],
      ['marker', undefined],
    ]);
    expect(messages.every((m) => m.addressed && m.conversation.kind === 'private')).toBe(true);
  });

  it('an album earns one unsupported message, and none beside its caption', async () => {
    await startAdapter();
    const photo = (n: number) => [{ file_id: `f${n}`, file_unique_id: `u${n}`, width: 90, height: 90 }];
    fake.userSendsMedia(alice.id, { photo: photo(1), media_group_id: 'album-1', caption: 'these three' }, { from: alice });
    fake.userSendsMedia(alice.id, { photo: photo(2), media_group_id: 'album-1' }, { from: alice });
    fake.userSendsMedia(alice.id, { photo: photo(3), media_group_id: 'album-1' }, { from: alice });
    fake.userSendsMedia(alice.id, { photo: photo(4), media_group_id: 'album-2' }, { from: alice });
    fake.userSendsMedia(alice.id, { photo: photo(5), media_group_id: 'album-2' }, { from: alice });
    fake.userSends(alice.id, 'marker', { from: alice });
    await fake.waitFor(() => messages.some((m) => m.text === 'marker'));
    expect(messages.map((m) => [m.text, m.unsupported])).toEqual([
      ['these three', undefined],
      ['', 'a photo'],
      ['marker', undefined],
    ]);
  });

  it('reports a group upgrade once as a moved conversation', async () => {
    fake.createGroup(-555, 'Team');
    await startAdapter();
    fake.migrateGroup(-555, -100555);
    fake.userSends(alice.id, 'marker', { from: alice });
    await fake.waitFor(() => messages.length === 1);
    expect(moves).toEqual([[to(-555, 'group'), to(-100555, 'group')]]);
  });
});

describe('moves', () => {
  it('takes a group move again when the core could not store it the first time', async () => {
    moveFailures = 1;
    await startAdapter();
    fake.createGroup(-556, 'Team');
    fake.migrateGroup(-556, -100556);
    await fake.waitFor(() => moves.length === 1 && fake.pendingUpdates() === 0);
    expect(moves).toEqual([[to(-556, 'group'), to(-100556, 'group')]]);
  });
});

describe('group gating', () => {
  const GROUP = -42;
  beforeEach(() => {
    fake.createGroup(GROUP, 'Team');
  });

  it.each([
    ['plain chatter', 'lunch anyone?', false, 'lunch anyone?'],
    ['an @mention', '@tether_test_bot what time is it', true, 'what time is it'],
    ['a mention in the middle', 'hey @tether_test_bot, help', true, 'hey , help'],
    ['a bare command', '/status', true, '/status'],
    ['a command for this bot', '/status@tether_test_bot now', true, '/status now'],
    ['a mention of someone else', '@alice_person look', false, '@alice_person look'],
  ])('%s', async (_name, text, addressed, stripped) => {
    await startAdapter();
    fake.userSends(GROUP, text, { from: alice });
    await fake.waitFor(() => messages.length === 1);
    expect(messages[0]).toMatchObject({ addressed, text: stripped, conversation: to(GROUP, 'group') });
  });

  it('never hands over a command for another bot: not in a reply to ours, not in a private chat', async () => {
    await startAdapter();
    const sent = await adapter.send(to(GROUP, 'group'), 'I am the bot', 'k1');
    fake.userSends(GROUP, '/status@other_bot', { from: alice });
    fake.userSends(GROUP, '/new@other_bot', { from: alice, replyTo: Number(sent.messageId) });
    fake.userSends(alice.id, '/help@other_bot', { from: alice });
    fake.userSends(alice.id, '/help@tether_test_bot please', { from: alice });
    await fake.waitFor(() => messages.length === 1 && fake.pendingUpdates() === 0);
    expect(messages.map((m) => [m.text, m.addressed])).toEqual([['/help please', true]]);
    expect(logs.filter((l) => l.includes('a command for another bot'))).toHaveLength(3);
  });

  it('a reply to the bot is addressed; a reply to a person is not', async () => {
    await startAdapter();
    const sent = await adapter.send(to(GROUP, 'group'), 'I am the bot', 'k1');
    const human = fake.userSends(GROUP, 'human says', { from: bob });
    fake.userSends(GROUP, 'answering the bot', { from: alice, replyTo: Number(sent.messageId) });
    fake.userSends(GROUP, 'answering bob', { from: alice, replyTo: human.message_id });
    await fake.waitFor(() => messages.length === 3);
    expect(messages.map((m) => [m.text, m.addressed])).toEqual([
      ['human says', false],
      ['answering the bot', true],
      ['answering bob', false],
    ]);
  });

  it('media in a group is addressed only as a reply to the bot or with a caption mentioning it', async () => {
    await startAdapter();
    const sent = await adapter.send(to(GROUP, 'group'), 'I am the bot', 'k1');
    const photo = [{ file_id: 'f1', file_unique_id: 'u1', width: 90, height: 90 }];
    fake.userSendsMedia(GROUP, { photo }, { from: alice });
    fake.userSendsMedia(GROUP, { photo }, { from: alice, replyTo: Number(sent.messageId) });
    fake.userSendsMedia(GROUP, { photo, caption: '@tether_test_bot describe it' }, { from: alice });
    await fake.waitFor(() => messages.length === 3);
    expect(messages.map((m) => [m.text, m.unsupported, m.addressed])).toEqual([
      ['', 'a photo', false],
      ['', 'a photo', true],
      ['describe it', undefined, true],
    ]);
  });

  it('a topic created by the bot does not make every message in it addressed', async () => {
    fake.createSupergroup(FORUM, 'Forum', { forum: true });
    fake.createTopic(FORUM, 'Bot topic', { id: 9, creator: { id: fake.bot.id, first_name: 'bot', is_bot: true } });
    await startAdapter();
    fake.userSends(FORUM, 'just talking', { from: alice, thread: 9 });
    await fake.waitFor(() => messages.length === 1);
    expect(messages[0]).toMatchObject({ addressed: false, conversation: to(FORUM, 'group', 9) });
  });

  it('a text_mention of the bot is addressed', async () => {
    await startAdapter();
    fake.userSends(GROUP, 'Tether do it', { from: alice, entities: [{ type: 'text_mention', offset: 0, length: 6, user: { id: fake.bot.id, first_name: 'Tether', is_bot: true } }] });
    await fake.waitFor(() => messages.length === 1);
    expect(messages[0]).toMatchObject({ addressed: true, text: 'do it' });
  });
});

describe('sending', () => {
  beforeEach(async () => {
    fake.privateChat(alice);
    fake.createSupergroup(FORUM, 'Forum', { forum: true });
    fake.createTopic(FORUM, 'Work', { id: 7 });
    await startAdapter();
  });

  it('sends plain text into a topic, and into General without a thread id', async () => {
    await adapter.send(to(FORUM, 'group', 7), 'to the topic', 'a');
    await adapter.send(to(FORUM, 'group'), 'to general *not bold*', 'b');
    expect(fake.sent(FORUM, 7).map((m) => m.text)).toEqual(['to the topic']);
    expect(fake.sent(FORUM, GENERAL_TOPIC_ID).map((m) => m.text)).toEqual(['to general *not bold*']);
    const calls = fake.callsOf('sendMessage');
    expect(calls.map((c) => [c.params.message_thread_id, c.params.parse_mode])).toEqual([
      [7, undefined],
      [undefined, undefined],
    ]);
  });

  it('a closed or deleted topic is gone, and nothing lands in General', async () => {
    fake.closeTopic(FORUM, 7);
    const closed = await failureOf(adapter.send(to(FORUM, 'group', 7), 'x', 'a'));
    expect(closed.failure.kind).toBe('gone');
    fake.deleteTopic(FORUM, 7);
    expect((await failureOf(adapter.send(to(FORUM, 'group', 7), 'x', 'b'))).failure.kind).toBe('gone');
    expect((await failureOf(adapter.send(to(FORUM, 'group', 99), 'x', 'c'))).failure.kind).toBe('gone');
    expect(fake.sent(FORUM)).toEqual([]);
    expect(fake.callCount('reopenForumTopic')).toBe(0);
  });

  it.each([
    ['429', { method: 'sendMessage', error_code: 429, description: TELEGRAM_ERRORS.tooManyRequests(7), parameters: { retry_after: 7 } }, { kind: 'retry_after', seconds: 7 }],
    ['500', { method: 'sendMessage', error_code: 500, description: TELEGRAM_ERRORS.internal }, { kind: 'transient' }],
    ['a cut connection', { method: 'sendMessage', network: 'destroy' as const }, { kind: 'transient' }],
    ['too long', { method: 'sendMessage', error_code: 400, description: TELEGRAM_ERRORS.messageTooLong }, { kind: 'too_long' }],
    ['401', { method: 'sendMessage', error_code: 401, description: TELEGRAM_ERRORS.unauthorized }, { kind: 'fatal' }],
  ])('classifies %s', async (_name, fault, expected) => {
    fake.fail(fault);
    const err = await failureOf(adapter.send(to(alice.id, 'private'), 'hi', 'k'));
    expect(err.failure).toMatchObject(expected);
    expect(err.message).not.toContain(fake.token);
  });

  it('a blocked user and an unknown chat are gone', async () => {
    fake.userBlocksBot(alice);
    expect((await failureOf(adapter.send(to(alice.id, 'private'), 'hi', 'k'))).failure).toMatchObject({ kind: 'gone', reason: TELEGRAM_ERRORS.blocked });
    expect((await failureOf(adapter.send(to(31337, 'private'), 'hi', 'k'))).failure.kind).toBe('gone');
  });

  it('a migrated group is moved to the supergroup id', async () => {
    fake.createGroup(-555, 'Team');
    fake.migrateGroup(-555, -100555);
    const err = await failureOf(adapter.send(to(-555, 'group'), 'hi', 'k'));
    expect(err.failure).toEqual({ kind: 'moved', to: to(-100555, 'group') });
  });

  it('typing in a forum General uses thread 1 once the chat is known as a forum', async () => {
    fake.userSends(FORUM, '@tether_test_bot hi', { from: alice });
    await fake.waitFor(() => messages.length === 1);
    await adapter.typing!(to(FORUM, 'group'));
    await adapter.typing!(to(FORUM, 'group', 7));
    expect(fake.callsOf('sendChatAction').map((c) => [c.params.action, c.params.message_thread_id, c.ok])).toEqual([
      ['typing', 1, true],
      ['typing', 7, true],
    ]);
  });
});

describe('approval buttons', () => {
  it('shows the command with buttons, reports a press, answers it, and marks the prompt decided', async () => {
    fake.privateChat(alice);
    onAction = async (a) => {
      actions.push(a);
      await a.answer('Denied');
    };
    await startAdapter();
    const where = to(alice.id, 'private');
    const sent = await adapter.askApproval!(where, { approvalId: 'apr_abc123', tool: 'shell', summary: 'rm -rf build/', text: 'Run a shell command?\nrm -rf build/' }, 'k');
    const [prompt] = fake.sent(alice.id);
    expect(prompt?.text).toBe('Run a shell command?\nrm -rf build/');
    expect(prompt?.replyMarkup).toEqual({
      inline_keyboard: [
        [
          { text: '✅ Approve', callback_data: 'ap:apr_abc123:a' },
          { text: '❌ Deny', callback_data: 'ap:apr_abc123:d' },
        ],
      ],
    });
    const queryId = fake.userPresses(alice.id, Number(sent.messageId), 'ap:apr_abc123:d', alice);
    await fake.waitFor(() => fake.callbackAnswer(queryId)?.answered);
    expect(actions[0]).toMatchObject({ approvalId: 'apr_abc123', decision: 'deny', conversation: where, sender: { id: '1001' } });
    expect(fake.callbackAnswer(queryId)).toEqual({ answered: true, text: 'Denied' });
    await adapter.markApprovalDecided!(where, sent, 'Denied: rm -rf build/');
    await adapter.markApprovalDecided!(where, sent, 'Denied: rm -rf build/');
    expect(fake.sent(alice.id)[0]).toMatchObject({ text: 'Denied: rm -rf build/', replyMarkup: undefined });
  });

  it('refuses to send a prompt over 4096 characters beside buttons (too_long: the core lays it out again), and cuts a long press answer between graphemes', async () => {
    fake.privateChat(alice);
    const family = '👨‍👩‍👧‍👦';
    onAction = async (a) => {
      await a.answer('a'.repeat(195) + family);
    };
    await startAdapter();
    const where = to(alice.id, 'private');
    const text = `Run?\n$ echo ${'x'.repeat(4100)}`;
    const failure = await failureOf(adapter.askApproval!(where, { approvalId: 'apr_abc123', tool: 'shell', summary: text, text }, 'k'));
    expect(failure.failure).toEqual({ kind: 'too_long' });
    expect(fake.callsOf('sendMessage')).toEqual([]);
    const sent = await adapter.send(where, 'prompt', 'k2');
    const queryId = fake.userPresses(alice.id, Number(sent.messageId), 'ap:apr_abc123:a', alice);
    await fake.waitFor(() => fake.callbackAnswer(queryId)?.answered);
    expect(fake.callbackAnswer(queryId)!.text).toBe('a'.repeat(195) + '…');
  });

  it('answers a stale button itself, and leaves a press to the core, which may answer it after it was stored', async () => {
    fake.privateChat(alice);
    await startAdapter();
    const sent = await adapter.send(to(alice.id, 'private'), 'old', 'k');
    const stale = fake.userPresses(alice.id, Number(sent.messageId), 'something-else', alice);
    const press = fake.userPresses(alice.id, Number(sent.messageId), 'ap:apr_x:a', alice);
    await fake.waitFor(() => actions.length === 1 && fake.pendingUpdates() === 0 && fake.callbackAnswer(stale)?.answered);
    expect(fake.callbackAnswer(stale)).toEqual({ answered: true, text: 'This button is no longer active.' });
    // The press was confirmed without an answer; the core answers it later, once.
    expect(fake.callbackAnswer(press)).toEqual({ answered: false });
    await actions[0]!.answer('Approved.');
    await fake.waitFor(() => fake.callbackAnswer(press)?.answered);
    expect(fake.callbackAnswer(press)).toEqual({ answered: true, text: 'Approved.' });
  });
});

describe('polling robustness', () => {
  it('survives three 409 conflicts, reports them, and delivers each message once', async () => {
    fake.fail({ method: 'getUpdates', error_code: 409, description: TELEGRAM_ERRORS.pollConflict, times: 3 });
    await startAdapter();
    await fake.waitFor(() => adapter.health!().conflicts === 3 || undefined, 5000, 'three conflicts');
    fake.userSends(alice.id, 'after the conflicts', { from: alice });
    await fake.waitFor(() => messages.length === 1);
    expect(adapter.health!()).toMatchObject({ state: 'polling', conflicts: 3 });
    expect(logs.some((l) => l.includes('another process polls Telegram with this bot token'))).toBe(true);
    fake.userSends(alice.id, 'second', { from: alice });
    await fake.waitFor(() => messages.length === 2 && fake.pendingUpdates() === 0);
    expect(messages.map((m) => m.text)).toEqual(['after the conflicts', 'second']);
  });

  it('deletes an active webhook and goes on polling', async () => {
    await makeAdapter().api.setWebhook('https://example.invalid/hook');
    await startAdapter();
    fake.userSends(alice.id, 'through polling', { from: alice });
    await fake.waitFor(() => messages.length === 1);
    expect(fake.callCount('deleteWebhook')).toBe(1);
    expect(fake.webhookUrl).toBe('');
  });

  it('waits retry_after on a 429 before polling again', async () => {
    fake.fail({ method: 'getUpdates', error_code: 429, description: TELEGRAM_ERRORS.tooManyRequests(1), parameters: { retry_after: 1 } });
    await startAdapter();
    await fake.waitFor(() => fake.callCount('getUpdates') === 2, 5000);
    const [first, second] = fake.callsOf('getUpdates');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
  });

  it('reconnects after dropped connections without a hot loop', async () => {
    fake.fail({ method: 'getUpdates', network: 'destroy', times: 3 });
    await startAdapter();
    fake.userSends(alice.id, 'after the drops', { from: alice });
    await fake.waitFor(() => messages.length === 1 && fake.isPolling());
    expect(fake.callCount('getUpdates')).toBeLessThanOrEqual(5);
    // A drop on a socket kept alive since the last call is sent again at once on a fresh one
    // (lib/http; getUpdates is safe to repeat), so the first two drops may cost one reconnect.
    const health = adapter.health!();
    expect(health).toMatchObject({ state: 'polling' });
    expect(health.reconnects).toBeGreaterThanOrEqual(2);
    expect(health.reconnects).toBeLessThanOrEqual(3);
  });

  it('a watchdog restarts a poll that never answers', async () => {
    fake.fail({ method: 'getUpdates', network: 'hang' });
    await startAdapter({ ...quick, pollTimeoutS: 1, watchdogGraceMs: 300 });
    fake.userSends(alice.id, 'after the hang', { from: alice });
    await fake.waitFor(() => messages.length === 1, 8000);
    expect(logs.some((l) => l.includes('outlived its timeout'))).toBe(true);
  });

  it('stops for good on 401 and says TELEGRAM_BOT_TOKEN', async () => {
    await startAdapter();
    await fake.waitFor(() => fake.isPolling());
    // The token is revoked in @BotFather while the bridge runs.
    fake.fail({ method: 'getUpdates', error_code: 401, description: TELEGRAM_ERRORS.unauthorized, times: 100 });
    fake.userSends(alice.id, 'wake the poll', { from: alice });
    await fake.waitFor(() => fatal.length === 1);
    expect(fatal[0]).toContain('TELEGRAM_BOT_TOKEN');
    expect(adapter.health!().state).toBe('fatal');
    const polls = fake.callCount('getUpdates');
    fake.userSends(alice.id, 'ignored');
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.callCount('getUpdates')).toBe(polls);
  });

  it('identify() turns a refused token into one line naming TELEGRAM_BOT_TOKEN', async () => {
    adapter = makeAdapter(quick, '999999:AAwrongwrongwrongwrongwrongwrongwrong');
    await expect(adapter.identify()).rejects.toThrow(/^Telegram refused TELEGRAM_BOT_TOKEN \(401 Unauthorized\): copy the token again from @BotFather/);
  });

  it('stop() answers quickly while a poll is parked and confirms what was stored', async () => {
    await startAdapter();
    fake.userSends(alice.id, 'one', { from: alice });
    await fake.waitFor(() => messages.length === 1 && fake.isPolling());
    await adapter.stop();
    expect(fake.isPolling()).toBe(false);
    expect(fake.pendingUpdates()).toBe(0);
  });
});
