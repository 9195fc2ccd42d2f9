// Feishu events → the core's messages and presses: p2p, groups, threads, mentions in text and posts, apps, non-text.
import { describe, expect, it } from 'vitest';
import { approvalCard, parseApprovalValue } from '../../../bridges/feishu/approval-card.js';
import { sendUuid } from '../../../bridges/feishu/adapter.js';
import { interpretCardAction, interpretMessageEvent } from '../../../bridges/feishu/inbound.js';

const BOT = 'ou_bot000000000000000000000000001';
const ALICE = 'ou_alice0000000000000000000000001';
const bot = { openId: BOT };

function event(message: Record<string, unknown>, sender: Record<string, unknown> = { sender_id: { open_id: ALICE }, sender_type: 'user' }) {
  return { event_id: 'ev_1', sender, message: { message_id: 'om_1', chat_id: 'oc_1', chat_type: 'p2p', message_type: 'text', create_time: '1700000000000', content: JSON.stringify({ text: 'hi' }), ...message } };
}

const mention = (key: string, openId: string, name: string) => ({ key, id: { open_id: openId }, name });

describe('a Feishu message event', () => {
  it('in a p2p chat: addressed, keyed by message id and event id, sent at create_time', () => {
    const r = interpretMessageEvent(event({}), bot);
    expect(r).toEqual({
      kind: 'message',
      message: { dedupeKey: 'om_1', otherDedupeKeys: ['event:ev_1'], conversation: { platform: 'feishu', chatId: 'oc_1', kind: 'private' }, sender: { id: ALICE }, text: 'hi', addressed: true, messageId: 'om_1', sentAt: 1700000000000 },
    });
  });

  it('in a group: addressed only when the bot is mentioned by open id, the mention removed and others named', () => {
    const group = { chat_type: 'group', content: JSON.stringify({ text: '@_user_1 ask @_user_2 please' }) };
    const mentioned = interpretMessageEvent(event({ ...group, mentions: [mention('@_user_1', BOT, 'Tether'), mention('@_user_2', 'ou_bob', 'Bob')] }), bot);
    expect(mentioned).toMatchObject({ message: { addressed: true, text: 'ask @Bob please', conversation: { kind: 'group' } } });
    // A person who happens to share the bot's name is not the bot.
    const sameName = interpretMessageEvent(event({ ...group, mentions: [mention('@_user_1', 'ou_other', 'Tether'), mention('@_user_2', 'ou_bob', 'Bob')] }), bot);
    expect(sameName).toMatchObject({ message: { addressed: false } });
    const eleven = interpretMessageEvent(event({ ...group, content: JSON.stringify({ text: '@_user_11 hi @_user_1' }), mentions: [mention('@_user_1', BOT, 'T'), mention('@_user_11', 'ou_x', 'Xu')] }), bot);
    expect(eleven).toMatchObject({ message: { text: '@Xu hi', addressed: true } });
  });

  it('a post mentions the bot in its content even with no mentions list; its text is read line by line', () => {
    const content = { title: 'Plan', content: [[{ tag: 'at', user_id: BOT, user_name: 'Tether' }, { tag: 'text', text: ' first line' }], [{ tag: 'a', text: 'a link', href: 'https://x' }, { tag: 'text', text: ' and ' }, { tag: 'at', user_id: 'ou_bob', user_name: 'Bob' }]] };
    const r = interpretMessageEvent(event({ chat_type: 'group', message_type: 'post', content: JSON.stringify(content) }), bot);
    expect(r).toMatchObject({ message: { addressed: true, text: 'Plan\nfirst line\na link and @Bob' } });
    const images = interpretMessageEvent(event({ message_type: 'post', content: JSON.stringify({ title: '', content: [[{ tag: 'img', image_key: 'img_1' }]] }) }), bot);
    expect(images).toMatchObject({ message: { text: '', unsupported: 'a post without text' } });
  });

  it('a thread is its own conversation named by its first message; a topic\'s first message names itself', () => {
    expect(interpretMessageEvent(event({ chat_type: 'group', root_id: 'om_root', thread_id: 'omt_1' }), bot)).toMatchObject({ message: { conversation: { chatId: 'oc_1', topicId: 'om_root' } } });
    expect(interpretMessageEvent(event({ chat_type: 'group', thread_id: 'omt_2' }), bot)).toMatchObject({ message: { conversation: { topicId: 'om_1' } } });
    // A quote reply outside any thread stays in the chat.
    const quote = interpretMessageEvent(event({ chat_type: 'group', root_id: 'om_root', parent_id: 'om_root' }), bot);
    expect(quote).toMatchObject({ message: { conversation: { chatId: 'oc_1' } } });
    expect(quote.kind === 'message' ? quote.message.conversation : {}).not.toHaveProperty('topicId');
  });

  it('non-text types get a phrase, apps and the bot itself are ignored, malformed events too', () => {
    expect(interpretMessageEvent(event({ message_type: 'image', content: '{"image_key":"img"}' }), bot)).toMatchObject({ message: { text: '', unsupported: 'an image' } });
    expect(interpretMessageEvent(event({ message_type: 'audio', content: '{}' }), bot)).toMatchObject({ message: { unsupported: 'a voice message' } });
    expect(interpretMessageEvent(event({ message_type: 'brand_new', content: '{}' }), bot)).toMatchObject({ message: { unsupported: 'a brand_new message' } });
    expect(interpretMessageEvent(event({}, { sender_id: { open_id: 'ou_app' }, sender_type: 'app' }), bot)).toEqual({ kind: 'ignored', reason: 'sent by app' });
    expect(interpretMessageEvent(event({}, { sender_id: { open_id: BOT }, sender_type: 'user' }), bot)).toEqual({ kind: 'ignored', reason: 'sent by this bot' });
    expect(interpretMessageEvent(event({ message_type: 'system' }), bot)).toMatchObject({ kind: 'ignored' });
    expect(interpretMessageEvent({ message: 'nope' }, bot)).toMatchObject({ kind: 'ignored' });
    expect(interpretMessageEvent(event({ content: 'not json' }), bot)).toMatchObject({ kind: 'ignored' });
  });
});

describe('an approval button press', () => {
  const card = JSON.parse(approvalCard({ approvalId: 'ap_1', tool: 'shell', summary: '$ ls', text: 'Approval needed: shell\n$ ls' }, { platform: 'feishu', chatId: 'oc_1', topicId: 'om_root', kind: 'group' })) as { elements: Array<{ actions?: Array<{ value: unknown }> }> };
  const [approve, deny] = card.elements.find((e) => e.actions)!.actions!;

  it('carries the approval, the decision and the thread; the chat comes from the event', () => {
    const press = (value: unknown, chat = 'oc_1') => interpretCardAction({ event_id: 'ev_9', operator: { open_id: ALICE }, action: { value, tag: 'button' }, context: { open_message_id: 'om_card', open_chat_id: chat } });
    expect(press(approve!.value)).toEqual({ kind: 'action', dedupeKey: 'card:ev_9', conversation: { platform: 'feishu', chatId: 'oc_1', topicId: 'om_root', kind: 'group' }, sender: { id: ALICE }, cardMessageId: 'om_card', value: { tether: 'approval', id: 'ap_1', decision: 'approve', topic: 'om_root', kind: 'group' } });
    expect(press(deny!.value)).toMatchObject({ value: { decision: 'deny' } });
    // The same card forwarded into another chat names that chat: the core then refuses it as another conversation's.
    expect(press(approve!.value, 'oc_elsewhere')).toMatchObject({ conversation: { chatId: 'oc_elsewhere' } });
    expect(press({ tether: 'approval', id: 'ap_1', decision: 'maybe', kind: 'group' })).toEqual({ kind: 'ignored', reason: 'not an approval button' });
  });

  it('values that are not ours are refused', () => {
    for (const v of [undefined, 'ap_1', { id: 'ap_1', decision: 'approve', kind: 'group' }, { tether: 'approval', id: '', decision: 'approve', kind: 'group' }, { tether: 'approval', id: 'a', decision: 'approve', kind: 'channel' }]) expect(parseApprovalValue(v)).toBeUndefined();
  });
});

describe('the send uuid', () => {
  it('is the same for the same key and text, differs otherwise, and fits Feishu\'s 50 characters', () => {
    expect(sendUuid('feishu:out:1', '{"text":"a"}')).toBe(sendUuid('feishu:out:1', '{"text":"a"}'));
    expect(sendUuid('feishu:out:1', '{"text":"a"}')).not.toBe(sendUuid('feishu:out:2', '{"text":"a"}'));
    expect(sendUuid('feishu:out:1', '{"text":"a"}')).not.toBe(sendUuid('feishu:out:1', '{"text":"b"}'));
    expect(sendUuid('k', 'c')).toMatch(/^[0-9a-f]{32}$/);
  });
});
