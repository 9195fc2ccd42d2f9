// Send budgets from adapter.limits: one per conversation and one for the whole bot, shared by every kind of send.
import type { ConversationRef, SendLimits } from './adapter.js';

export interface PacingState {
  /** Earliest time the next send into a conversation may start. */
  nextByConversation: Map<string, number>;
  nextGlobal: number;
}

export function createPacingState(): PacingState {
  return { nextByConversation: new Map(), nextGlobal: 0 };
}

export function conversationInterval(limits: SendLimits, kind: ConversationRef['kind']): number {
  return kind === 'private' ? limits.privateIntervalMs : Math.ceil(60_000 / Math.max(1, limits.groupPerMinute));
}

/**
 * Reserves the next slot for a send into `key`. Returns how long to wait before sending; the
 * slot is taken (both budgets advance) so concurrent senders queue behind it.
 */
export function reserveSlot(state: PacingState, limits: SendLimits, key: string, kind: ConversationRef['kind'], now: number): number {
  const at = Math.max(now, state.nextByConversation.get(key) ?? 0, state.nextGlobal);
  state.nextByConversation.set(key, at + conversationInterval(limits, kind));
  state.nextGlobal = at + Math.ceil(1000 / Math.max(1, limits.globalPerSecond));
  return at - now;
}

/** Takes a slot only if it is free now: for typing, which is worthless when late. */
export function tryReserveNow(state: PacingState, limits: SendLimits, key: string, kind: ConversationRef['kind'], now: number): boolean {
  if ((state.nextByConversation.get(key) ?? 0) > now || state.nextGlobal > now) return false;
  reserveSlot(state, limits, key, kind, now);
  return true;
}

/** Pushes a conversation's next slot out (flood control said to wait). */
export function holdConversation(state: PacingState, key: string, until: number): void {
  state.nextByConversation.set(key, Math.max(until, state.nextByConversation.get(key) ?? 0));
}
