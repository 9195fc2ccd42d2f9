// The fake Bot API behaves like Telegram where the bridge depends on it, checked with the real grammY client.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Api, Bot, GrammyError, HttpError } from 'grammy';
import { GENERAL_TOPIC_ID, TELEGRAM_ERRORS, startFakeTelegram, type FakeTelegram } from './telegram-bot-api.js';

let fake: FakeTelegram;
let api: Api;
const alice = { id: 1001, first_name: 'Alice', username: 'alice' };
const bob = { id: 1002, first_name: 'Bob' };

beforeEach(async () => {
  fake = await startFakeTelegram();
  api = new Api(fake.token, { apiRoot: fake.url });
});

afterEach(async () => {
  await fake.close();
});

async function apiError(p: Promise<unknown>): Promise<GrammyError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GrammyError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

describe('long polling', () => {
  it('delivers a user message to a grammY bot and records its reply', async () => {
    const bot = new Bot(fake.token, { client: { apiRoot: fake.url } });
    bot.on('message:text', (ctx) => ctx.reply(`echo: ${ctx.message.text}`));
    const running = bot.start({ timeout: 30 });
    await fake.waitFor(() => fake.isPolling(), 5000, 'the bot to poll');
    fake.userSends(alice.id, 'hello', { from: alice });
    await fake.waitFor(() => fake.sent(alice.id).length === 1, 5000, 'the reply');
    await bot.stop();
    await running;
    expect(fake.sent(alice.id).map((m) => m.text)).toEqual(['echo: hello']);
    expect(fake.pendingUpdates()).toBe(0);
  });

  it('parks an idle poll instead of answering at once, so a client cannot hot-loop', async () => {
    const started = Date.now();
    const poll = api.getUpdates({ timeout: 1 });
    await fake.waitFor(() => fake.isPolling(), 2000, 'the poll to park');
    expect(await poll).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(fake.callCount('getUpdates')).toBe(1);
  });

  it('answers a parked poll as soon as an update arrives', async () => {
    const poll = api.getUpdates({ timeout: 30 });
    await fake.waitFor(() => fake.isPolling());
    fake.userSends(alice.id, 'wake up', { from: alice });
    const updates = await poll;
    expect(updates).toHaveLength(1);
    expect(updates[0]?.message?.text).toBe('wake up');
  });

  it('keeps updates until an offset above them confirms them', async () => {
    fake.userSends(alice.id, 'one', { from: alice });
    fake.userSends(alice.id, 'two', { from: alice });
    const first = await api.getUpdates({ limit: 1 });
    expect(first.map((u) => u.message?.text)).toEqual(['one']);
    const again = await api.getUpdates({});
    expect(again.map((u) => u.message?.text)).toEqual(['one', 'two']);
    const after = await api.getUpdates({ offset: first[0]!.update_id + 1 });
    expect(after.map((u) => u.message?.text)).toEqual(['two']);
    expect(await api.getUpdates({ offset: after[0]!.update_id + 1 })).toEqual([]);
  });

  it('a second parked poll displaces the first with the exact 409 text', async () => {
    const older = api.getUpdates({ timeout: 30 });
    await fake.waitFor(() => fake.isPolling());
    const newer = api.getUpdates({ timeout: 30 });
    const err = await apiError(older);
    expect(err.error_code).toBe(409);
    expect(err.description).toBe(TELEGRAM_ERRORS.pollConflict);
    fake.userSends(alice.id, 'for the newer', { from: alice });
    expect((await newer).map((u) => u.message?.text)).toEqual(['for the newer']);
  });

  it("stops an old grammY bot's start() when a second instance polls", async () => {
    const first = new Bot(fake.token, { client: { apiRoot: fake.url } });
    const firstRun = first.start({ timeout: 30 }).then(
      () => 'resolved',
      (err: unknown) => err,
    );
    await fake.waitFor(() => fake.isPolling());
    const second = new Bot(fake.token, { client: { apiRoot: fake.url } });
    const secondRun = second.start({ timeout: 30 });
    const outcome = await firstRun;
    expect(outcome).toBeInstanceOf(GrammyError);
    expect((outcome as GrammyError).error_code).toBe(409);
    await second.stop();
    await secondRun;
  });

  it('refuses getUpdates while a webhook is set, until deleteWebhook', async () => {
    await api.setWebhook('https://example.invalid/hook');
    const err = await apiError(api.getUpdates({}));
    expect(err.error_code).toBe(409);
    expect(err.description).toBe(TELEGRAM_ERRORS.webhookActive);
    await api.deleteWebhook();
    expect(await api.getUpdates({})).toEqual([]);
  });

  it('remembers allowed_updates and filters new updates by it', async () => {
    await api.getUpdates({ allowed_updates: ['callback_query'] });
    fake.userSends(alice.id, 'not wanted', { from: alice });
    expect(fake.pendingUpdates()).toBe(0);
  });

  it('answers parked polls on close', async () => {
    const poll = api.getUpdates({ timeout: 30 });
    await fake.waitFor(() => fake.isPolling());
    await fake.close();
    expect(await poll).toEqual([]);
  });
});

describe('faults', () => {
  it('serves a 429 with retry_after once, then the real answer', async () => {
    fake.fail({ method: 'sendMessage', error_code: 429, description: TELEGRAM_ERRORS.tooManyRequests(1), parameters: { retry_after: 1 } });
    fake.privateChat(alice);
    const err = await apiError(api.sendMessage(alice.id, 'hi'));
    expect(err.error_code).toBe(429);
    expect(err.description).toBe('Too Many Requests: retry after 1');
    expect(err.parameters.retry_after).toBe(1);
    await api.sendMessage(alice.id, 'hi');
    expect(fake.sent(alice.id).map((m) => m.text)).toEqual(['hi']);
    expect(fake.callsOf('sendMessage').map((c) => c.ok)).toEqual([false, true]);
  });

  it('can cut the connection (grammY sees an HttpError)', async () => {
    fake.fail({ method: 'getMe', network: 'destroy' });
    await expect(api.getMe()).rejects.toBeInstanceOf(HttpError);
    expect((await api.getMe()).id).toBe(fake.bot.id);
  });

  it('applies a fault only to matching calls', async () => {
    fake.privateChat(alice);
    fake.privateChat(bob);
    fake.fail({ method: 'sendMessage', error_code: 500, description: TELEGRAM_ERRORS.internal, when: (p) => Number(p.chat_id) === bob.id });
    await api.sendMessage(alice.id, 'to alice');
    const err = await apiError(api.sendMessage(bob.id, 'to bob'));
    expect(err.error_code).toBe(500);
    expect(fake.pendingFaults()).toBe(0);
  });

  it('answers a wrong token with 401 Unauthorized', async () => {
    const wrong = new Api('999:wrongtokenwrongtokenwrongtokenwrong', { apiRoot: fake.url });
    const err = await apiError(wrong.getMe());
    expect(err.error_code).toBe(401);
    expect(err.description).toBe('Unauthorized');
  });

  it('answers an unknown method with 404', async () => {
    const err = await apiError(api.raw.sendDice({ chat_id: alice.id }));
    expect(err.error_code).toBe(404);
    expect(err.description).toBe(TELEGRAM_ERRORS.methodNotFound);
  });
});

describe('sendMessage rules', () => {
  beforeEach(() => {
    fake.privateChat(alice);
  });

  it('counts the 4096 limit in code points', async () => {
    await api.sendMessage(alice.id, '😀'.repeat(4096));
    const err = await apiError(api.sendMessage(alice.id, '😀'.repeat(4097)));
    expect(err.description).toBe(TELEGRAM_ERRORS.messageTooLong);
    expect(fake.sent(alice.id)).toHaveLength(1);
  });

  it('refuses empty text', async () => {
    const err = await apiError(api.sendMessage(alice.id, '  '));
    expect(err.error_code).toBe(400);
    expect(err.description).toBe(TELEGRAM_ERRORS.textEmpty);
  });

  it('refuses an unknown chat', async () => {
    const err = await apiError(api.sendMessage(4242, 'hi'));
    expect(err.description).toBe(TELEGRAM_ERRORS.chatNotFound);
  });

  it('refuses a reply to a missing message unless sending without reply is allowed', async () => {
    const err = await apiError(api.sendMessage(alice.id, 'hi', { reply_parameters: { message_id: 999 } }));
    expect(err.description).toBe(TELEGRAM_ERRORS.replyNotFound);
    await api.sendMessage(alice.id, 'hi', { reply_parameters: { message_id: 999, allow_sending_without_reply: true } });
    const asked = fake.userSends(alice.id, 'question', { from: alice });
    await api.sendMessage(alice.id, 'answer', { reply_parameters: { message_id: asked.message_id } });
    expect(fake.sent(alice.id).map((m) => [m.text, m.replyTo])).toEqual([
      ['hi', undefined],
      ['answer', asked.message_id],
    ]);
  });

  it('answers 403 once the user blocked the bot, and tells the bot', async () => {
    fake.userBlocksBot(alice);
    const err = await apiError(api.sendMessage(alice.id, 'hi'));
    expect(err.error_code).toBe(403);
    expect(err.description).toBe(TELEGRAM_ERRORS.blocked);
    const updates = await api.getUpdates({});
    expect(updates[0]?.my_chat_member?.new_chat_member.status).toBe('kicked');
  });

  it('accepts form-encoded bodies as well as JSON', async () => {
    const res = await fetch(`${fake.url}/bot${fake.token}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ chat_id: String(alice.id), text: 'form', reply_markup: JSON.stringify({ inline_keyboard: [[{ text: 'x', callback_data: 'y' }]] }) }),
    });
    expect(res.status).toBe(200);
    expect(fake.sent(alice.id)[0]).toMatchObject({ text: 'form', replyMarkup: { inline_keyboard: [[{ text: 'x', callback_data: 'y' }]] } });
  });
});

describe('forums', () => {
  const forumId = -1001234567890;
  let topic: number;

  beforeEach(() => {
    fake.createSupergroup(forumId, 'Forum', { forum: true });
    topic = fake.createTopic(forumId, 'Work', { id: 7 });
  });

  it('marks topic messages with is_topic_message and leaves General messages without a thread', async () => {
    fake.userSends(forumId, 'in general', { from: alice });
    fake.userSends(forumId, 'in topic', { from: alice, thread: topic });
    const [general, inTopic] = await api.getUpdates({});
    expect(general?.message?.message_thread_id).toBeUndefined();
    expect(general?.message?.is_topic_message).toBeUndefined();
    expect(inTopic?.message).toMatchObject({ message_thread_id: 7, is_topic_message: true });
    expect(inTopic?.message?.reply_to_message?.forum_topic_created?.name).toBe('Work');
  });

  it('refuses thread 1 and unknown topics in sendMessage but allows typing in General', async () => {
    expect((await apiError(api.sendMessage(forumId, 'x', { message_thread_id: GENERAL_TOPIC_ID }))).description).toBe(TELEGRAM_ERRORS.threadNotFound);
    expect((await apiError(api.sendMessage(forumId, 'x', { message_thread_id: 99 }))).description).toBe(TELEGRAM_ERRORS.threadNotFound);
    await api.sendChatAction(forumId, 'typing', { message_thread_id: GENERAL_TOPIC_ID });
    await api.sendMessage(forumId, 'general');
    await api.sendMessage(forumId, 'topic', { message_thread_id: topic });
    expect(fake.sent(forumId, GENERAL_TOPIC_ID).map((m) => m.text)).toEqual(['general']);
    expect(fake.sent(forumId, topic).map((m) => m.text)).toEqual(['topic']);
  });

  it('refuses closed and deleted topics with their own errors, and reopens a closed one', async () => {
    fake.closeTopic(forumId, topic);
    expect((await apiError(api.sendMessage(forumId, 'x', { message_thread_id: topic }))).description).toBe(TELEGRAM_ERRORS.topicClosed);
    await api.reopenForumTopic(forumId, topic);
    await api.sendMessage(forumId, 'after reopen', { message_thread_id: topic });
    expect((await apiError(api.reopenForumTopic(forumId, topic))).description).toBe(TELEGRAM_ERRORS.topicNotModified);
    fake.deleteTopic(forumId, topic);
    expect((await apiError(api.sendMessage(forumId, 'x', { message_thread_id: topic }))).description).toBe(TELEGRAM_ERRORS.topicDeleted);
    expect(fake.sent(forumId).map((m) => m.text)).toEqual(['after reopen']);
  });
});

describe('groups, edits, buttons, commands', () => {
  it('migrates a group: old id answers 400 with migrate_to_chat_id, service messages arrive', async () => {
    fake.createGroup(-555, 'Team');
    fake.migrateGroup(-555, -100555);
    const err = await apiError(api.sendMessage(-555, 'hi'));
    expect(err.description).toBe(TELEGRAM_ERRORS.migrated);
    expect(err.parameters.migrate_to_chat_id).toBe(-100555);
    const updates = await api.getUpdates({});
    expect(updates.map((u) => [u.message?.chat.id, u.message?.migrate_to_chat_id, u.message?.migrate_from_chat_id])).toEqual([
      [-555, -100555, undefined],
      [-100555, undefined, -555],
    ]);
    await api.sendMessage(-100555, 'hi');
    expect(fake.sent(-100555).map((m) => m.text)).toEqual(['hi']);
  });

  it('edits text and keyboard, and says not modified for a no-op edit', async () => {
    fake.privateChat(alice);
    const keyboard = { inline_keyboard: [[{ text: 'Approve', callback_data: 'ap:1:a' }]] };
    const m = await api.sendMessage(alice.id, 'approve?', { reply_markup: keyboard });
    await api.editMessageText(alice.id, m.message_id, 'approved');
    const err = await apiError(api.editMessageText(alice.id, m.message_id, 'approved'));
    expect(err.description).toBe(TELEGRAM_ERRORS.notModified);
    expect(fake.sent(alice.id)[0]).toMatchObject({ text: 'approved', history: ['approve?', 'approved'] });
    expect(fake.sent(alice.id)[0]?.replyMarkup).toBeUndefined();
    const user = fake.userSends(alice.id, 'mine', { from: alice });
    expect((await apiError(api.editMessageText(alice.id, user.message_id, 'x'))).description).toBe(TELEGRAM_ERRORS.cantEdit);
  });

  it('removes a keyboard with editMessageReplyMarkup', async () => {
    fake.privateChat(alice);
    const m = await api.sendMessage(alice.id, 'q', { reply_markup: { inline_keyboard: [[{ text: 'a', callback_data: 'b' }]] } });
    await api.editMessageReplyMarkup(alice.id, m.message_id);
    expect(fake.sent(alice.id)[0]?.replyMarkup).toBeUndefined();
    expect((await apiError(api.editMessageReplyMarkup(alice.id, m.message_id))).description).toBe(TELEGRAM_ERRORS.notModified);
  });

  it('delivers button presses and accepts one answer per query', async () => {
    fake.privateChat(alice);
    const m = await api.sendMessage(alice.id, 'q', { reply_markup: { inline_keyboard: [[{ text: 'a', callback_data: 'ap:x:a' }]] } });
    const id = fake.userPresses(alice.id, m.message_id, 'ap:x:a', alice);
    const [update] = await api.getUpdates({});
    expect(update?.callback_query).toMatchObject({ id, data: 'ap:x:a', from: { id: alice.id } });
    await api.answerCallbackQuery(id, { text: 'Approved' });
    expect(fake.callbackAnswer(id)).toEqual({ answered: true, text: 'Approved' });
    expect((await apiError(api.answerCallbackQuery(id))).description).toBe(TELEGRAM_ERRORS.queryInvalid);
  });

  it('stores commands, validates their names, deletes messages', async () => {
    await api.setMyCommands([{ command: 'help', description: 'what I can do' }]);
    expect(fake.commands).toEqual([{ command: 'help', description: 'what I can do' }]);
    expect((await apiError(api.setMyCommands([{ command: 'Bad-Name', description: 'x' }]))).description).toBe(TELEGRAM_ERRORS.commandInvalid);
    fake.privateChat(alice);
    const m = await api.sendMessage(alice.id, 'bye');
    await api.deleteMessage(alice.id, m.message_id);
    expect(fake.sent(alice.id)).toEqual([]);
    expect((await apiError(api.deleteMessage(alice.id, m.message_id))).description).toBe(TELEGRAM_ERRORS.deleteNotFound);
  });

  it('detects bot commands and mentions like Telegram clients do', async () => {
    fake.createGroup(-77, 'Team');
    fake.userSends(-77, '/help@tether_test_bot now', { from: alice });
    fake.userSends(-77, 'hey @tether_test_bot look', { from: alice });
    const [cmd, mention] = await api.getUpdates({});
    expect(cmd?.message?.entities).toEqual([{ type: 'bot_command', offset: 0, length: '/help@tether_test_bot'.length }]);
    expect(mention?.message?.entities).toEqual([{ type: 'mention', offset: 4, length: 16 }]);
  });
});
