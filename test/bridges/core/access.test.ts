// Who may talk, by table: private chats, groups, addressed or not, pairing on or off.
import { describe, expect, it } from 'vitest';
import { decideAccess, type AccessFacts } from '../../../bridges/core/access.js';

const priv = { platform: 'telegram' as const, chatId: '5', kind: 'private' as const };
const group = { platform: 'telegram' as const, chatId: '-9', kind: 'group' as const };

describe('decideAccess', () => {
  it.each<[string, { conversation: typeof priv | typeof group; text: string; addressed: boolean }, AccessFacts, string]>([
    ['a paired user in private is accepted', { conversation: priv, text: 'hi', addressed: true }, { senderRole: 'user', chatAllowed: false, pairing: true }, 'accept'],
    ['an allowlisted private chat is accepted', { conversation: priv, text: 'hi', addressed: true }, { senderRole: undefined, chatAllowed: true, pairing: true }, 'accept'],
    ['a stranger writing text gets a request', { conversation: priv, text: 'hi', addressed: true }, { senderRole: undefined, chatAllowed: false, pairing: true }, 'request'],
    ['a stranger sending /pair tries a code', { conversation: priv, text: '/pair ABCD2345', addressed: true }, { senderRole: undefined, chatAllowed: false, pairing: true }, 'pair_private'],
    ['/pair@bot is not /pair: a suffix naming this bot is the adapter\'s to remove', { conversation: priv, text: '/pair@tetherbot X', addressed: true }, { senderRole: undefined, chatAllowed: false, pairing: true }, 'request'],
    ['/pairing is not /pair', { conversation: priv, text: '/pairing', addressed: true }, { senderRole: undefined, chatAllowed: false, pairing: true }, 'request'],
    ['with pairing off a stranger gets nothing', { conversation: priv, text: '/pair ABCD2345', addressed: true }, { senderRole: undefined, chatAllowed: false, pairing: false }, 'ignore'],
    ['group chatter not addressed is ignored', { conversation: group, text: 'hi', addressed: false }, { senderRole: 'owner', chatAllowed: true, pairing: true }, 'ignore'],
    ['a stranger in an allowed group is ignored', { conversation: group, text: 'hi', addressed: true }, { senderRole: undefined, chatAllowed: true, pairing: true }, 'ignore'],
    ['an allowed sender in an allowed group is accepted', { conversation: group, text: 'hi', addressed: true }, { senderRole: 'user', chatAllowed: true, pairing: true }, 'accept'],
    ['an owner sending /pair in a new group pairs it', { conversation: group, text: '/pair', addressed: true }, { senderRole: 'owner', chatAllowed: false, pairing: true }, 'pair_group'],
    ['a user sending /pair in a new group is refused', { conversation: group, text: '/pair', addressed: true }, { senderRole: 'user', chatAllowed: false, pairing: true }, 'refuse'],
    ['an owner writing in a new group is told how to pair it', { conversation: group, text: 'hi', addressed: true }, { senderRole: 'owner', chatAllowed: false, pairing: true }, 'refuse'],
  ])('%s', (_name, m, facts, kind) => {
    expect(decideAccess(m, facts).kind).toBe(kind);
  });
});
