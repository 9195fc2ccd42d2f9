// The ask/auto/readonly policy and durable approval records: a risky tool under `ask` waits for a person.
import { approvalSafeText } from '../lib/approval-text.js';
import type { ApprovalMode } from '../lib/config.js';
import { HttpError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import type { RuntimeStore } from './store/store.js';
import type { Approval, ApprovalDecision } from './store/types.js';
import type { Tool, ToolPlan } from './tools/types.js';

/** What the model is told when the person says no; the tool never ran. */
export const DENIED_RESULT = 'the person denied this: the tool did not run. Do not try it again; tell them what you wanted to do and ask how to go on.';

/** The mode a thread runs under: its own `approval`, else TETHER_APPROVAL. */
export function effectiveMode(threadMode: ApprovalMode | null | undefined, runtimeMode: ApprovalMode): ApprovalMode {
  return threadMode ?? runtimeMode;
}

/**
 * `ask` stops for a person before tools that change things (shell, writes); any mode stops for a
 * call whose plan says so (a write into .git/ asks even under `auto`).
 */
export function needsApproval(mode: ApprovalMode, tool: Pick<Tool, 'risky'>, plan?: Pick<ToolPlan, 'alwaysAsk'>): boolean {
  return (mode === 'ask' && tool.risky) || (mode !== 'readonly' && plan?.alwaysAsk === true);
}

/** `readonly` offers only tools that change nothing, whatever the tool table says. */
export function offeredTools(mode: ApprovalMode, all: readonly Tool[]): Tool[] {
  return mode === 'readonly' ? all.filter((t) => t.readonly) : [...all];
}

export function isDecision(value: unknown): value is ApprovalDecision {
  return value === 'approve' || value === 'deny';
}

/** Durable approval records; `onDecided` lets the turn engine carry the waiting turn on. */
export class ApprovalDesk {
  constructor(
    private readonly store: RuntimeStore,
    private readonly onDecided: (approval: Approval) => void,
  ) {}

  /**
   * Records a pending approval and emits approval.requested; call inside the write that suspends
   * the turn. The summary is made approval-safe here, so every client shows control characters visibly.
   */
  request(threadId: string, turnId: string, tool: string, rawSummary: string): string {
    const summary = approvalSafeText(rawSummary);
    const id = newId('apr');
    this.store.insertApproval({ id, threadId, turnId, tool, summary });
    this.store.appendEvent('approval.requested', threadId, turnId, { approval_id: id, tool, summary });
    return id;
  }

  /** 404 unknown, 409 when already decided or expired; otherwise records it and resumes the turn. */
  decide(id: string, decision: ApprovalDecision): Approval {
    const decided = this.store.write(() => {
      const a = this.store.getApproval(id);
      if (!a) throw new HttpError(404, 'not_found', `no approval ${id}`);
      if (a.status === 'expired') throw new HttpError(409, 'approval_expired', `approval ${id} expired: its turn ended (cancelled or interrupted) before a decision`);
      if (a.status !== 'pending') throw new HttpError(409, 'approval_decided', `approval ${id} was already decided (${a.status})`);
      this.store.decideApproval(id, decision === 'approve' ? 'approved' : 'denied');
      this.store.appendEvent('approval.resolved', a.thread_id, a.turn_id, { approval_id: id, decision });
      return this.store.getApproval(id)!;
    });
    this.onDecided(decided);
    return decided;
  }

  /** The turn ended while waiting: its approval can no longer be decided. Call inside a write. */
  expire(approvalId: string): void {
    const a = this.store.getApproval(approvalId);
    if (a?.status === 'pending') this.store.decideApproval(approvalId, 'expired');
  }
}
