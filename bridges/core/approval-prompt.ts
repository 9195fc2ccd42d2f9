// Approval prompts as chat rows: the whole summary before anyone can approve, and the prompt's text once decided or expired.
import { decisionText, type DecisionText } from '../../lib/approval-text.js';
import type { ConversationRef } from './adapter.js';
import { chunkText, codePoints, lastGraphemes } from './chunker.js';
import type { NewOutbound } from './store.js';

/** What the runtime asked: `summary` is the exact command or path, never shortened. */
export interface ApprovalAsk {
  approvalId: string;
  tool: string;
  summary: string;
}

/** How much of a long summary's end the message with the buttons repeats. */
const TAIL_SHOWN = 160;

/** Why a pending approval expired, by the event that ended its turn (kept as the approval's `decision`). */
export const EXPIRY_REASONS: Record<string, { reason: string; text: string }> = {
  'turn.cancelled': { reason: 'cancelled', text: 'its turn was stopped' },
  'turn.failed': { reason: 'failed', text: 'its turn failed' },
  'turn.interrupted': { reason: 'interrupted', text: 'the agent restarted' },
  'turn.completed': { reason: 'ended', text: 'its turn ended' },
  // Not emitted by the runtime today (it expires an approval silently, with its turn's end), taken if it ever is.
  'approval.resolved': { reason: 'ended', text: 'its turn ended' },
};

function expiryText(reason: string | null): string {
  return Object.values(EXPIRY_REASONS).find((r) => r.reason === reason)?.text ?? 'its turn ended';
}

/** ` (62 lines)` after the tool's name when the summary has several lines; they are numbered below it. */
function linesNote(shown: DecisionText): string {
  return shown.lines === 1 ? '' : ` (${shown.lines} lines)`;
}

/** The whole prompt as one message; the summary laid out by the shared rule (numbered lines, blank runs marked). */
export function approvalText(a: ApprovalAsk): string {
  const shown = decisionText(a.summary);
  return `Approval needed: ${a.tool}${linesNote(shown)}\n${shown.text}\n\nReply /approve or /deny (id ${a.approvalId}).`;
}

function fitsOneMessage(a: ApprovalAsk, limit: number): boolean {
  return codePoints(approvalText(a)) <= limit;
}

function count(n: number, one: string): string {
  return `${n.toLocaleString('en-US')} ${one}${n === 1 ? '' : 's'}`;
}

/**
 * The rows of one approval prompt, each within `limit` code points. A prompt that fits one
 * message goes with its buttons. A longer one would be cut beside live buttons, so the summary
 * goes first as ordinary messages (the same ledger keeps them in order, before the buttons),
 * then a short message with the buttons says where the summary is, how long it is, and repeats
 * its end: nobody can approve a command whose end they were not shown.
 */
export function approvalPromptRows(a: ApprovalAsk, ref: ConversationRef, limit: number): NewOutbound[] {
  const prompt = { approvalId: a.approvalId, tool: a.tool, summary: a.summary };
  if (fitsOneMessage(a, limit)) return [{ ref, kind: 'approval', body: { text: approvalText(a), ...prompt } }];
  const shown = decisionText(a.summary);
  // Shown verbatim: no fence marks added inside a command.
  const parts = chunkText(`Approval needed: ${a.tool}${linesNote(shown)} (id ${a.approvalId}), in full:\n${shown.text}`, limit, { fences: false });
  const tail = lastGraphemes(shown.text, TAIL_SHOWN);
  const size = `${count(codePoints(a.summary), 'character')}${shown.lines === 1 ? '' : ` (${count(shown.lines, 'line')})`}`;
  const buttons = [
    `Approval needed: ${a.tool}`,
    `The whole request is the ${size} in the ${count(parts.length, 'message')} above. It ends with:`,
    `…${tail}`,
    '',
    `Reply /approve or /deny (id ${a.approvalId}).`,
  ].join('\n');
  return [...parts.map((text): NewOutbound => ({ ref, kind: 'text', body: { text } })), { ref, kind: 'approval', body: { text: buttons, ...prompt } }];
}

/** What the prompt's message says once it is decided or expired (it then has no buttons), within `limit` code points. */
export function closedPromptText(a: ApprovalAsk, outcome: { decision: string } | { expired: string | null }, limit: number): string {
  const result = 'expired' in outcome ? `expired: ${expiryText(outcome.expired)} before anyone decided` : outcome.decision === 'approve' ? 'approved' : 'denied';
  const shown = decisionText(a.summary);
  const whole = shown.lines === 1 ? `${a.tool}: ${shown.text}\n\n→ ${result}` : `${a.tool}${linesNote(shown)}:\n${shown.text}\n\n→ ${result}`;
  if (fitsOneMessage(a, limit) && codePoints(whole) <= limit) return whole;
  return `${a.tool}: the request in the messages above (${count(codePoints(a.summary), 'character')})\n\n→ ${result}`;
}

/** The answer to /approve, /deny or a button press on an approval that expired. */
export function expiredAnswer(reason: string | null): string {
  return `That approval expired: ${expiryText(reason)} before anyone decided. Send your request again if you still want it.`;
}
