// The runtime API's wire shapes (CONTRACT.md "Runtime HTTP API"): produced by the runtime, read by its clients.
import type { ApprovalMode } from './config.js';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface Thread {
  id: string;
  title: string;
  created_at: string;
  updated_at: string;
  /** The thread's own model, else the runtime's TETHER_MODEL. */
  model: string;
  /** The thread's own approval mode, else TETHER_APPROVAL. */
  approval: ApprovalMode;
  metadata: Record<string, string>;
  archived: boolean;
  status: 'idle' | 'busy';
  last_seq: number;
}

/** GET /v1/threads/:id: the thread with its newest turns (newest last, at most 50). */
export interface ThreadWithTurns extends Thread {
  turns: Turn[];
}

export type TurnStatus = 'queued' | 'running' | 'awaiting_approval' | 'completed' | 'failed' | 'cancelled' | 'interrupted';
export const FINISHED_STATUSES: readonly TurnStatus[] = ['completed', 'failed', 'cancelled', 'interrupted'];
export const TURN_STATUSES: readonly TurnStatus[] = ['queued', 'running', 'awaiting_approval', ...FINISHED_STATUSES];

export interface Turn {
  id: string;
  thread_id: string;
  input: string;
  status: TurnStatus;
  output: string;
  error?: string;
  usage?: Usage;
  created_at: string;
  started_at?: string;
  finished_at?: string;
}

export type EventType =
  | 'thread.created'
  | 'thread.updated'
  | 'turn.queued'
  | 'turn.started'
  | 'message.delta'
  | 'tool.started'
  | 'tool.finished'
  | 'approval.requested'
  | 'approval.resolved'
  | 'turn.completed'
  | 'turn.failed'
  | 'turn.cancelled'
  | 'turn.interrupted';

/** An event as stored and streamed: the envelope fields plus the type's payload, flat. */
export interface RuntimeEvent {
  seq: number;
  type: EventType;
  /** Every event type belongs to a thread. */
  thread_id: string;
  turn_id: string | null;
  at: string;
  [payload: string]: unknown;
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';
export type ApprovalDecision = 'approve' | 'deny';

export interface Approval {
  id: string;
  thread_id: string;
  turn_id: string;
  tool: string;
  summary: string;
  status: ApprovalStatus;
  created_at: string;
  decided_at?: string;
}

export interface RuntimeHealth {
  status: string;
  version: string;
}
