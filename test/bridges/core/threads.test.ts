// Thread metadata ↔ conversation reference by table: no guessing a conversation's kind from a platform's id format.
import { describe, expect, it } from 'vitest';
import { refFromMetadata, threadMetadata } from '../../../bridges/core/threads.js';

describe('thread metadata', () => {
  it('names the platform, the bot, the conversation and its kind', () => {
    expect(threadMetadata({ platform: 'telegram', chatId: '-100123', topicId: '7', kind: 'group' }, '42')).toEqual({ platform: 'telegram', bot: '42', conversation: '-100123:7', chat_kind: 'group' });
  });

  it.each([
    ['a private chat', { platform: 'feishu', conversation: 'oc_abc', chat_kind: 'private' }, { platform: 'feishu', chatId: 'oc_abc', kind: 'private' }],
    ['a topic of a group', { platform: 'telegram', conversation: '-100123:7', chat_kind: 'group' }, { platform: 'telegram', chatId: '-100123', topicId: '7', kind: 'group' }],
    ['a group whose id has no minus sign', { platform: 'slack', conversation: 'C0123', chat_kind: 'group' }, { platform: 'slack', chatId: 'C0123', kind: 'group' }],
    ['no kind: not guessed from the id', { platform: 'telegram', conversation: '-100123' }, undefined],
    ['no conversation', { platform: 'telegram', chat_kind: 'group' }, undefined],
  ])('%s', (_name, metadata, expected) => {
    expect(refFromMetadata(metadata as Record<string, string>)).toEqual(expected);
  });
});
