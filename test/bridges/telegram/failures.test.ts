// Telegram errors map to the core's DeliveryFailure exactly as docs/telegram.md says, and descriptions never carry the token.
import { describe, expect, it } from 'vitest';
import { Api, GrammyError, HttpError, telegramFetch } from '../../../bridges/telegram/grammy.js';
import { HttpBodyTooLargeError, HttpTimeoutError } from '../../../lib/http.js';
import { BotApiAnswerError } from '../../../bridges/telegram/bot-api-fetch.js';
import type { ConversationRef } from '../../../bridges/core/adapter.js';
import { classifyTelegramFailure, describeTelegramError } from '../../../bridges/telegram/failures.js';
import { TELEGRAM_ERRORS } from '../../fakes/telegram-bot-api.js';

const topic: ConversationRef = { platform: 'telegram', chatId: '-100123', topicId: '7', kind: 'group' };

function grammyError(error_code: number, description: string, parameters: Record<string, number> = {}): GrammyError {
  return new GrammyError('Call failed', { ok: false, error_code, description, parameters }, 'sendMessage', {});
}

describe('classifyTelegramFailure', () => {
  it.each([
    [429, TELEGRAM_ERRORS.tooManyRequests(12), { retry_after: 12 }, { kind: 'retry_after', seconds: 12 }],
    [400, TELEGRAM_ERRORS.migrated, { migrate_to_chat_id: -100999 }, { kind: 'moved', to: { platform: 'telegram', chatId: '-100999', kind: 'group' } }],
    [400, TELEGRAM_ERRORS.messageTooLong, {}, { kind: 'too_long' }],
    [400, TELEGRAM_ERRORS.textTooLongRaw, {}, { kind: 'too_long' }],
    [400, TELEGRAM_ERRORS.topicClosed, {}, { kind: 'gone' }],
    [400, TELEGRAM_ERRORS.topicDeleted, {}, { kind: 'gone' }],
    [400, TELEGRAM_ERRORS.threadNotFound, {}, { kind: 'gone' }],
    [400, TELEGRAM_ERRORS.chatNotFound, {}, { kind: 'gone' }],
    [403, TELEGRAM_ERRORS.blocked, {}, { kind: 'gone' }],
    [403, TELEGRAM_ERRORS.deactivated, {}, { kind: 'gone' }],
    [403, 'Forbidden: bot was kicked from the supergroup chat', {}, { kind: 'gone' }],
    [401, TELEGRAM_ERRORS.unauthorized, {}, { kind: 'fatal' }],
    [500, TELEGRAM_ERRORS.internal, {}, { kind: 'transient' }],
    [502, 'Bad Gateway', {}, { kind: 'transient' }],
    // A refusal of this one request: the conversation stays, only the message is dropped.
    [400, TELEGRAM_ERRORS.textEmpty, {}, { kind: 'rejected', reason: TELEGRAM_ERRORS.textEmpty }],
    [400, "Bad Request: can't parse entities: unsupported start tag", {}, { kind: 'rejected' }],
  ])('%i %s', (code, description, parameters, expected) => {
    expect(classifyTelegramFailure(grammyError(code, description, parameters), topic)).toMatchObject(expected);
  });

  it('names the topic in the reason of a gone topic', () => {
    expect(classifyTelegramFailure(grammyError(400, TELEGRAM_ERRORS.topicClosed), topic)).toEqual({ kind: 'gone', reason: 'Bad Request: TOPIC_CLOSED (topic 7)' });
  });

  it('treats anything that is not a Telegram answer as transient', () => {
    expect(classifyTelegramFailure(new Error('socket hang up'), topic)).toEqual({ kind: 'transient' });
    expect(classifyTelegramFailure(new HttpError("Network request for 'sendMessage' failed!", new BotApiAnswerError(502, 'Bad Gateway')), topic)).toEqual({ kind: 'transient' });
  });

  it('a 404 that is not JSON (a web server at a wrong TELEGRAM_API_ROOT) is fatal with the same sentence as Telegram\'s own 404', () => {
    const own = classifyTelegramFailure(new GrammyError('Call failed', { ok: false, error_code: 404, description: 'Not Found' }, 'sendMessage', {}), topic);
    const page = classifyTelegramFailure(new HttpError("Network request for 'sendMessage' failed!", new BotApiAnswerError(404, 'Not Found')), topic);
    expect(own).toEqual({ kind: 'fatal', reason: 'Telegram answered 404 (Not Found): TELEGRAM_API_ROOT or TELEGRAM_BOT_TOKEN is wrong' });
    expect(page).toEqual({ kind: 'fatal', reason: 'Telegram answered 404 (not JSON): TELEGRAM_API_ROOT or TELEGRAM_BOT_TOKEN is wrong' });
  });
});

describe('describeTelegramError', () => {
  it('describes a network failure without the URL that carries the token', async () => {
    const token = '123456789:AAsecretTokenThatMustNotLeak_0123456789';
    const api = new Api(token, { apiRoot: 'http://127.0.0.1:9', fetch: telegramFetch });
    const err = await api.getMe().catch((e: unknown) => e);
    const text = describeTelegramError(err, 'getMe');
    expect(text).toBe('getMe: network error (ECONNREFUSED)');
    expect(text).not.toContain('AAsecret');
  });

  const socketError = (code: string) => Object.assign(new Error(`read ${code}`), { code });
  it.each([
    [socketError('ECONNRESET'), 'getUpdates: network error (ECONNRESET)'],
    [socketError('ENOTFOUND'), 'getUpdates: network error (ENOTFOUND)'],
    [new HttpTimeoutError('connect', 10_000), 'getUpdates: timed out (no connection within 10000 ms)'],
    [new HttpTimeoutError('headers', 30_000), 'getUpdates: timed out (no response within 30000 ms)'],
    [new HttpBodyTooLargeError(32 * 1024 * 1024), 'getUpdates: the response body is larger than 33554432 bytes'],
    [new Error("Request to 'getUpdates' timed out after 45 seconds"), 'getUpdates: timed out'],
    [new DOMException('This operation was aborted', 'AbortError'), 'getUpdates: network error (AbortError)'],
    [Object.assign(new Error('not JSON'), { status: 502, statusText: 'Bad Gateway' }), 'getUpdates: HTTP 502, not JSON'],
  ])('describes %s inside grammY\'s HttpError', (inner, expected) => {
    expect(describeTelegramError(new HttpError("Network request for 'getUpdates' failed!", inner))).toBe(expected);
  });

  it('describes a Telegram answer by method, code and description', () => {
    expect(describeTelegramError(grammyError(403, TELEGRAM_ERRORS.blocked))).toBe('sendMessage: 403 Forbidden: bot was blocked by the user');
  });
});
