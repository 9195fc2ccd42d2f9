// Who may talk: the pure decision for one inbound message, from the allowlist and the paired ids.
import type { ConversationRef, InboundMessage } from './adapter.js';

export type Role = 'owner' | 'user';

export interface AccessFacts {
  /** Role of the sender when allowlisted or paired; undefined for strangers. */
  senderRole: Role | undefined;
  /** The chat (or, for groups, the group) is allowlisted or paired. */
  chatAllowed: boolean;
  pairing: boolean;
}

export type AccessDecision =
  /** Goes to the inbox (a turn or a command). */
  | { kind: 'accept' }
  /** `/pair CODE` from a stranger in a private chat. */
  | { kind: 'pair_private' }
  /** `/pair` from an owner in a group that is not allowed yet. */
  | { kind: 'pair_group' }
  /** Unknown private chat: maybe a request code (rate-limited by the caller). */
  | { kind: 'request' }
  /** Answer with this text and do nothing else. */
  | { kind: 'refuse'; reply: string }
  /** Say nothing: strangers in groups, unaddressed group chatter, pairing off. */
  | { kind: 'ignore'; reason: string };

/** The text is the command `/name` (adapters hand commands over without a platform suffix). */
export function isCommand(text: string, name: string): boolean {
  return new RegExp(`^/${name}(?:\\s|$)`, 'i').test(text.trim());
}

/**
 * Whether a sender may use the agent in a chat right now: in a private chat the person or the
 * chat is allowed; in a group both are. Asked when a message comes in, and again when a queued
 * message is posted or a button press is decided, so a revoke stops what was waiting.
 */
export function mayUseAgent(kind: ConversationRef['kind'], f: Pick<AccessFacts, 'senderRole' | 'chatAllowed'>): boolean {
  return kind === 'private' ? f.senderRole !== undefined || f.chatAllowed : f.senderRole !== undefined && f.chatAllowed;
}

export function decideAccess(m: Pick<InboundMessage, 'conversation' | 'text' | 'addressed'>, f: AccessFacts): AccessDecision {
  const pairCommand = isCommand(m.text, 'pair');
  if (m.conversation.kind === 'private') {
    if (mayUseAgent('private', f)) return { kind: 'accept' };
    if (!f.pairing) return { kind: 'ignore', reason: 'stranger, pairing off' };
    return pairCommand ? { kind: 'pair_private' } : { kind: 'request' };
  }
  if (!m.addressed) return { kind: 'ignore', reason: 'group message not addressed to the bot' };
  if (f.senderRole === undefined) return { kind: 'ignore', reason: 'stranger in a group' };
  if (mayUseAgent('group', f)) return { kind: 'accept' };
  if (pairCommand && f.senderRole === 'owner' && f.pairing) return { kind: 'pair_group' };
  if (!f.pairing) return { kind: 'refuse', reply: `This group is not allowed to use the agent. Pairing is off: an owner can add its id (${m.conversation.chatId}) to the allowlist on the host.` };
  return {
    kind: 'refuse',
    reply: f.senderRole === 'owner' ? 'This group is not paired yet. Send /pair here to allow it.' : 'This group is not allowed to use the agent. Ask an owner to send /pair here.',
  };
}
