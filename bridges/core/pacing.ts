// Send budgets as token buckets from adapter.limits: one per chat and one for the whole bot, shared by every kind of send; time is passed in.
import type { ConversationRef, SendLimits } from './adapter.js';

/**
 * A token bucket: `tokens` is its level at time `at` (ms). It refills one token every `refillMs`
 * up to `burst`, so any window of T ms holds at most burst + T / refillMs sends — the figure to
 * check a platform's limit against. A level below 0 or an `at` in the future is a hold (429).
 */
export interface Bucket {
  tokens: number;
  at: number;
  /** When it is full again: a full bucket is the same as none, so it can be forgotten. */
  fullAt: number;
}

export interface BucketRule {
  burst: number;
  /** Milliseconds per token; 0 = no limit. */
  refillMs: number;
}

export interface PacingState {
  /** Per chat (topics of a forum share their chat's budget: platforms limit chats, not topics). */
  chats: Map<string, Bucket>;
  global: Bucket | undefined;
}

/**
 * `send`: a message the person is waiting for (reply, approval, notice); it waits for a token.
 * `best_effort`: typing, progress lines; taken only when it leaves a reply its token, else skipped.
 */
export type SendClass = 'send' | 'best_effort';

export function createPacingState(): PacingState {
  return { chats: new Map(), global: undefined };
}

function rule(burst: number | undefined, refillMs: number): BucketRule {
  const b = Math.max(1, Math.floor(burst ?? 1));
  return { burst: b, refillMs: Number.isFinite(refillMs) && refillMs > 0 ? refillMs : 0 };
}

export function chatRule(limits: SendLimits, kind: ConversationRef['kind']): BucketRule {
  return kind === 'private'
    ? rule(limits.privateBurst, limits.privateIntervalMs)
    : rule(limits.groupBurst, 60_000 / limits.groupPerMinute);
}

export function globalRule(limits: SendLimits): BucketRule {
  return rule(limits.globalBurst, 1000 / limits.globalPerSecond);
}

/** The budget a conversation draws from: its chat's. */
export function budgetKey(ref: Pick<ConversationRef, 'chatId'>): string {
  return ref.chatId;
}

/** Level of `b` at `now`; a fresh bucket (never used) is full, one without limit always is. */
export function level(b: Bucket | undefined, r: BucketRule, now: number): number {
  if (r.refillMs === 0) return b && now < b.at ? 0 : Number.POSITIVE_INFINITY; // unlimited, except while held
  if (!b) return r.burst;
  return Math.min(r.burst, b.tokens + (now - b.at) / r.refillMs);
}

/**
 * Tokens a send of `cls` needs in a bucket before it may take one. A best-effort send keeps one
 * token in the chat (the reply that follows typing never waits for it) and half the global burst
 * (under load, typing yields to other chats' replies); a bucket of burst 1 cannot keep anything.
 */
export function threshold(r: BucketRule, cls: SendClass, scope: 'chat' | 'global'): number {
  if (cls === 'send') return 1;
  const reserve = scope === 'chat' ? 1 : Math.floor(r.burst / 2);
  return Math.min(r.burst, 1 + reserve);
}

function waitIn(b: Bucket | undefined, r: BucketRule, now: number, need: number): number {
  const l = level(b, r, now);
  if (l >= need - 1e-9) return 0; // float residue of many refills is not a missing token
  return r.refillMs === 0 ? b!.at - now : Math.ceil((need - l) * r.refillMs);
}

/** How long until the chat's own budget allows a send of `cls` (other chats do not count). */
export function chatWait(state: PacingState, limits: SendLimits, ref: Pick<ConversationRef, 'chatId' | 'kind'>, now: number, cls: SendClass = 'send'): number {
  const r = chatRule(limits, ref.kind);
  return waitIn(state.chats.get(budgetKey(ref)), r, now, threshold(r, cls, 'chat'));
}

/** How long until the bot-wide budget allows a send of `cls`. */
export function globalWait(state: PacingState, limits: SendLimits, now: number, cls: SendClass = 'send'): number {
  const r = globalRule(limits);
  return waitIn(state.global, r, now, threshold(r, cls, 'global'));
}

/** How long until both budgets allow a send of `cls` into `ref`: 0 = now. Takes nothing. */
export function sendWait(state: PacingState, limits: SendLimits, ref: Pick<ConversationRef, 'chatId' | 'kind'>, now: number, cls: SendClass = 'send'): number {
  return Math.max(chatWait(state, limits, ref, now, cls), globalWait(state, limits, now, cls));
}

function take(b: Bucket | undefined, r: BucketRule, now: number): Bucket {
  const tokens = level(b, r, now) - 1;
  return { tokens, at: now, fullAt: now + (r.burst - tokens) * r.refillMs };
}

/** Chats remembered before full buckets are forgotten (a bot answers strangers too). */
const PRUNE_ABOVE = 512;

function prune(state: PacingState, now: number): void {
  if (state.chats.size <= PRUNE_ABOVE) return;
  for (const [key, b] of state.chats) if (b.fullAt <= now) state.chats.delete(key);
}

/**
 * Takes one token from the chat's and one from the global budget if a send of `cls` may go now;
 * otherwise takes nothing. Tokens are taken at the moment of sending, never booked ahead, so
 * senders that wake together after a stall cannot exceed the budget.
 */
export function trySend(state: PacingState, limits: SendLimits, ref: Pick<ConversationRef, 'chatId' | 'kind'>, now: number, cls: SendClass = 'send'): boolean {
  if (sendWait(state, limits, ref, now, cls) > 0) return false;
  const key = budgetKey(ref);
  const r = chatRule(limits, ref.kind);
  if (r.refillMs > 0) state.chats.set(key, take(state.chats.get(key), r, now));
  const g = globalRule(limits);
  if (g.refillMs > 0) state.global = take(state.global, g, now);
  prune(state, now);
  return true;
}

/**
 * The waiting senders that may send now, in queue order, taking their tokens; and when to look
 * again. A sender whose chat is out of tokens is passed over (its wait never delays other chats);
 * one stopped by the global budget stops the scan, so the global budget is served first come,
 * first served. At most `maxGrants` (the free in-flight slots).
 */
export function grantWaiting(
  state: PacingState,
  limits: SendLimits,
  waiting: ReadonlyArray<Pick<ConversationRef, 'chatId' | 'kind'>>,
  now: number,
  maxGrants = Number.POSITIVE_INFINITY,
): { granted: number[]; nextCheckMs: number | undefined } {
  const granted: number[] = [];
  let next = Number.POSITIVE_INFINITY;
  for (let i = 0; i < waiting.length && granted.length < maxGrants; i++) {
    const ref = waiting[i]!;
    const own = chatWait(state, limits, ref, now);
    if (own > 0) {
      next = Math.min(next, own);
      continue;
    }
    const shared = globalWait(state, limits, now);
    if (shared > 0) {
      next = Math.min(next, shared);
      break;
    }
    trySend(state, limits, ref, now);
    granted.push(i);
  }
  return { granted, nextCheckMs: next === Number.POSITIVE_INFINITY ? undefined : next };
}

/** Flood control said to wait: the chat gets one token back at `until`, and refills from there. */
export function holdChat(state: PacingState, limits: SendLimits, ref: Pick<ConversationRef, 'chatId' | 'kind'>, until: number): void {
  const key = budgetKey(ref);
  const held = state.chats.get(key);
  if (held && held.at >= until) return; // an earlier 429 already holds it longer
  const r = chatRule(limits, ref.kind);
  state.chats.set(key, { tokens: 1, at: until, fullAt: until + (r.burst - 1) * r.refillMs });
}
