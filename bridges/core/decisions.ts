// Deciding one of the runtime's approvals from chat (a /approve or a button press): the runtime's call, then the bridge's row.
import { RuntimeApiError } from '../../lib/runtime-client.js';
import { expiredAnswer } from './approval-prompt.js';
import type { BridgeContext } from './context.js';
import type { ApprovalRow } from './store.js';

export type DecisionOutcome = 'approved' | 'denied' | 'already_decided' | 'expired';

const STATUS_OF: Record<'approve' | 'deny', string> = { approve: 'approved', deny: 'denied' };

/**
 * Sends the decision to the runtime and records it. A 409 or 404 means the approval was decided
 * already: by someone else (another chat, the host, a turn that ended), or by this very decision
 * sent before, which reached a runtime that hung and answered too late. The runtime's record says
 * which, so a retried press is not reported as someone else's. Throws what else the runtime
 * client throws: the inbox retries a RuntimeUnavailableError later.
 */
export async function decideRuntimeApproval(ctx: BridgeContext, approval: ApprovalRow, decision: 'approve' | 'deny'): Promise<DecisionOutcome> {
  if (approval.status === 'decided') return 'already_decided';
  if (approval.status === 'expired') return 'expired';
  try {
    await ctx.client.decideApproval(approval.approvalId, decision);
  } catch (err) {
    // The turn's end is on its way in the event stream: that closes the row and edits the prompt.
    if (err instanceof RuntimeApiError && err.code === 'approval_expired') return 'expired';
    if (!(err instanceof RuntimeApiError && (err.status === 409 || err.status === 404))) throw err;
    const record = err.status === 409 ? (await ctx.client.listApprovals({ threadId: approval.threadId })).find((a) => a.id === approval.approvalId) : undefined;
    if (record?.status !== STATUS_OF[decision]) {
      ctx.store.decideApprovalRow(approval.approvalId, 'unknown');
      return 'already_decided';
    }
  }
  ctx.store.decideApprovalRow(approval.approvalId, decision);
  return decision === 'approve' ? 'approved' : 'denied';
}

type Decided = Pick<ApprovalRow, 'tool' | 'status' | 'decision'> | undefined;

/** Why an expired approval expired, when the bridge knows (its row says so once the turn's end arrived). */
function expiryReason(approval: Decided): string | null {
  return approval?.status === 'expired' ? approval.decision : null;
}

/** What the chat is told (a /approve's reply, or a press's result once its answer window has passed). */
export function decisionText(outcome: DecisionOutcome, approval: Decided): string {
  if (outcome === 'expired') return expiredAnswer(expiryReason(approval));
  const tool = approval?.tool ?? 'the tool';
  return { approved: `Approved: ${tool} runs now.`, denied: `Denied: ${tool} will not run.`, already_decided: 'That approval was already decided.' }[outcome];
}

/** The short answer shown to the presser of a button. */
export function pressAnswer(outcome: DecisionOutcome, approval: Decided): string {
  if (outcome === 'expired') return expiredAnswer(expiryReason(approval));
  return { approved: 'Approved.', denied: 'Denied.', already_decided: 'Already decided.' }[outcome];
}
