// Telegram updates → the core's messages: /start is Telegram's, so it reaches the core as /help.
import type { Update } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import { interpretUpdate, withCoreCommands } from '../../../bridges/telegram/inbound.js';

const bot = { id: 777, username: 'tether_bot' };

function privateText(text: string): Update {
  return { update_id: 5, message: { message_id: 1, date: 1_700_000_000, chat: { id: 1001, type: 'private', first_name: 'Alice' }, from: { id: 1001, is_bot: false, first_name: 'Alice' }, text } } as Update;
}

describe('withCoreCommands', () => {
  it.each([
    ['/start', '/help'],
    ['/start deep-link-payload', '/help'],
    ['/START', '/help'],
    ['/starting', '/starting'],
    ['/help', '/help'],
    ['start the engine', 'start the engine'],
  ])('%s → %s', (text, expected) => {
    expect(withCoreCommands(text)).toBe(expected);
  });
});

describe('interpretUpdate', () => {
  it('hands the core /help for the /start Telegram sends on first contact', () => {
    const inbound = interpretUpdate(privateText('/start'), bot);
    expect(inbound).toMatchObject({ kind: 'message', message: { text: '/help', dedupeKey: '777:5' } });
  });

  it.each([
    ['/start@tether_bot', '/help'],
    ['/new@tether_bot', '/new'],
    ['/Approve@Tether_Bot apr_1', '/Approve apr_1'],
    ['/tmp is full', '/tmp is full'],
  ])('hands a command for this bot over without its suffix, in a private chat too: %s → %s', (text, expected) => {
    const entity = /^\/\S+/.exec(text)![0];
    const update = privateText(text);
    update.message!.entities = [{ type: 'bot_command', offset: 0, length: entity.length }];
    expect(interpretUpdate(update, bot)).toMatchObject({ kind: 'message', message: { text: expected } });
  });

  it('keeps back a command for another bot, even in a private chat', () => {
    const update = privateText('/new@other_bot');
    update.message!.entities = [{ type: 'bot_command', offset: 0, length: '/new@other_bot'.length }];
    expect(interpretUpdate(update, bot)).toEqual({ kind: 'ignored', reason: 'a command for another bot' });
  });
});
