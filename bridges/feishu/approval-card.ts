// Approval prompts as interactive cards (Approve/Deny buttons), their decided form, and reading a pressed button's value back.
import type { ApprovalPrompt, ConversationRef } from '../core/adapter.js';

/** What a button carries back in `card.action.trigger`: the approval, the decision and the thread the card is in. */
export interface ApprovalButtonValue {
  tether: 'approval';
  id: string;
  decision: 'approve' | 'deny';
  /** The conversation's topic (thread root) within the chat the press comes from; the chat itself comes from the event. */
  topic?: string;
  kind: ConversationRef['kind'];
}

/** Past this many code points a decided card's text is cut (it has no buttons then, so nothing can be approved unseen). */
const DECIDED_TEXT_MAX = 2000;
/** A card's request body may be 30 KB (230025 past it); what the prompt needs beyond its text stays well under the margin. */
export const CARD_BODY_MAX_BYTES = 29 * 1024;

function plain(content: string): { tag: 'plain_text'; content: string } {
  return { tag: 'plain_text', content };
}

function cut(text: string, max: number): string {
  const cps = [...text];
  return cps.length <= max ? text : `${cps.slice(0, max - 1).join('')}…`;
}

function button(label: string, type: 'primary' | 'danger', value: ApprovalButtonValue): Record<string, unknown> {
  return { tag: 'button', text: plain(label), type, value };
}

/**
 * The card JSON (1.0, shared so that an update shows to everyone: update_multi): the core's text as
 * it is (the whole command, or where the messages before it show it), then the buttons.
 */
export function approvalCard(prompt: ApprovalPrompt, to: ConversationRef): string {
  const base = { tether: 'approval' as const, id: prompt.approvalId, kind: to.kind, ...(to.topicId !== undefined ? { topic: to.topicId } : {}) };
  return JSON.stringify({
    config: { wide_screen_mode: true, update_multi: true },
    header: { title: plain(`Approval needed: ${cut(prompt.tool, 100)}`), template: 'orange' },
    elements: [
      { tag: 'div', text: plain(prompt.text) },
      { tag: 'action', actions: [button('Approve', 'primary', { ...base, decision: 'approve' }), button('Deny', 'danger', { ...base, decision: 'deny' })] },
    ],
  });
}

/** Bytes of the request that sends `content` as a card: what Feishu's 30 KB limit is counted on. */
export function cardBodyBytes(content: string, uuid: string): number {
  return Buffer.byteLength(JSON.stringify({ msg_type: 'interactive', content, uuid, receive_id: 'oc_00000000000000000000000000000000' }));
}

/** The same card once decided: the outcome and, when a button decided it, who pressed it (a mention shows their name), no buttons. */
export function decidedCard(text: string, decidedBy?: string): string {
  const by = decidedBy !== undefined && /^ou_[A-Za-z0-9]+$/.test(decidedBy) ? [{ tag: 'div', text: { tag: 'lark_md', content: `Decided by <at id="${decidedBy}"></at>` } }] : [];
  return JSON.stringify({
    config: { wide_screen_mode: true, update_multi: true },
    header: { title: plain('Approval decided'), template: 'grey' },
    elements: [{ tag: 'div', text: plain(cut(text, DECIDED_TEXT_MAX)) }, ...by],
  });
}

/** A pressed button's value, or undefined when it is not one of ours (another card, a stale or forged value). */
export function parseApprovalValue(value: unknown): ApprovalButtonValue | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.tether !== 'approval' || typeof v.id !== 'string' || v.id === '' || (v.decision !== 'approve' && v.decision !== 'deny')) return undefined;
  if (v.kind !== 'private' && v.kind !== 'group') return undefined;
  if (v.topic !== undefined && typeof v.topic !== 'string') return undefined;
  return { tether: 'approval', id: v.id, decision: v.decision, kind: v.kind, ...(typeof v.topic === 'string' ? { topic: v.topic } : {}) };
}
