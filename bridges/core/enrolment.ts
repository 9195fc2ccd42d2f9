// Pairing and access requests as store operations, shared by the running bridge and `tether pair`.
import { randomBytes } from 'node:crypto';
import type { ConversationRef, PlatformName } from './adapter.js';
import { conversationKey } from './adapter.js';
import { ATTEMPT_WINDOW_MS, CODE_TTL_MS, MAX_OPEN_REQUESTS, REQUEST_REPLY_INTERVAL_MS, hashCode, judgePairAttempt, lockoutsAfterWrongGuess, mintCode, normalizeCode, type PairVerdict } from './pairing.js';
import { GLOBAL_LOCKOUT, type BridgeStore, type CodeRow } from './store.js';

/** Approval ids of access-request prompts (buttons, /approve); the runtime's approval ids never start like this. */
export const REQUEST_APPROVAL_PREFIX = 'pairreq_';

/** Mints a one-time owner code (`/pair CODE`); only its hash is stored. */
export function mintPairCode(store: BridgeStore, now: number): { code: string; expiresAt: number } {
  const code = mintCode();
  const expiresAt = now + CODE_TTL_MS;
  store.insertCode({ hash: hashCode(store.salt(), code), purpose: 'pair', createdAt: now, expiresAt, requestId: null, requesterId: null, requesterName: null, conversation: null, ref: undefined });
  return { code, expiresAt };
}

/** What a refused attempt started, for the log: the sender's lockout or the freeze of all pairing. */
export type PairOutcome = PairVerdict & { lockedUntil?: number; frozenUntil?: number };

/** A `/pair CODE` from a stranger's private chat: judged, recorded, and on success the sender becomes an owner. */
export function attemptPair(store: BridgeStore, a: { senderId: string; typed: string; ref: ConversationRef; now: number }): PairOutcome {
  const sender = `${store.platform}:${a.senderId}`;
  return store.transaction(() => {
    const code = normalizeCode(a.typed);
    const hash = code === undefined ? undefined : hashCode(store.salt(), code);
    const match = hash === undefined ? undefined : store.code(hash, 'pair');
    const verdict = judgePairAttempt({ match, senderLockedUntil: store.lockedUntil(sender), frozenUntil: store.lockedUntil(GLOBAL_LOCKOUT), now: a.now });
    if (verdict.ok && match && store.useCode(match.hash, a.now)) {
      store.recordAttempt(sender, true, a.now);
      store.allow({ kind: 'user', id: a.senderId, role: 'owner', addedBy: 'pair code', ref: a.ref, now: a.now });
      return verdict;
    }
    const refused: PairVerdict = verdict.ok ? { ok: false, reason: 'used', countsAsWrong: true } : verdict;
    if (refused.ok || !refused.countsAsWrong) return refused;
    store.recordAttempt(sender, false, a.now);
    const since = a.now - ATTEMPT_WINDOW_MS;
    const locks = lockoutsAfterWrongGuess({ bySender: store.wrongAttempts(since, sender), global: store.wrongAttempts(since), now: a.now });
    if (locks.senderUntil !== undefined) store.lockUntil(sender, locks.senderUntil);
    if (locks.frozenUntil !== undefined) store.lockUntil(GLOBAL_LOCKOUT, locks.frozenUntil);
    return { ...refused, ...(locks.senderUntil !== undefined ? { lockedUntil: locks.senderUntil } : {}), ...(locks.frozenUntil !== undefined ? { frozenUntil: locks.frozenUntil } : {}) };
  });
}

export type RequestOutcome =
  | { kind: 'opened'; code: string; requestId: string }
  | { kind: 'recently_answered' }
  | { kind: 'too_many_open' };

/**
 * An unknown private chat wrote: open an access request (a new code) unless it got one less
 * than ten minutes ago, or too many strangers are already waiting.
 */
export function openAccessRequest(store: BridgeStore, r: { ref: ConversationRef; senderId: string; senderName?: string; now: number }): RequestOutcome {
  const conversation = conversationKey(r.ref);
  return store.transaction(() => {
    const last = store.latestRequest(conversation);
    if (last && r.now - last.createdAt < REQUEST_REPLY_INTERVAL_MS) return { kind: 'recently_answered' };
    const open = store.openCodes(r.now).filter((c) => c.purpose === 'request' && c.conversation !== conversation).length;
    if (open >= MAX_OPEN_REQUESTS) return { kind: 'too_many_open' };
    store.expireRequests(conversation, r.now);
    const code = mintCode();
    const requestId = randomBytes(9).toString('base64url');
    store.insertCode({ hash: hashCode(store.salt(), code), purpose: 'request', createdAt: r.now, expiresAt: r.now + CODE_TTL_MS, requestId, requesterId: r.senderId, requesterName: r.senderName ?? null, conversation, ref: r.ref });
    return { kind: 'opened', code, requestId };
  });
}

/** The open request a typed code names, or undefined (wrong, used and expired look the same). */
export function findOpenRequest(store: BridgeStore, typed: string, now: number): CodeRow | undefined {
  const code = normalizeCode(typed);
  if (code === undefined) return undefined;
  const row = store.code(hashCode(store.salt(), code), 'request');
  return row && row.usedAt === null && row.expiresAt > now ? row : undefined;
}

export function openRequestById(store: BridgeStore, requestId: string, now: number): CodeRow | undefined {
  const row = store.requestById(requestId);
  return row && row.usedAt === null && row.expiresAt > now ? row : undefined;
}

export const APPROVED_NOTICE = 'An owner approved your request: you can talk to the agent now. Send /help to see the commands.';

/**
 * Approves (or denies) an open request: the requester becomes a user and is told so through the
 * outbox, which the running bridge drains. False when the request was decided meanwhile.
 */
export function decideAccessRequest(store: BridgeStore, request: CodeRow, decision: 'approve' | 'deny', decidedBy: string, now: number): boolean {
  return store.transaction(() => {
    if (!store.useCode(request.hash, now)) return false;
    if (decision === 'approve' && request.requesterId) {
      store.allow({ kind: 'user', id: request.requesterId, role: 'user', addedBy: decidedBy, ref: request.ref, now });
      if (request.ref) store.enqueue([{ ref: request.ref, kind: 'text', body: { text: APPROVED_NOTICE } }], now, conversationKey);
    }
    return true;
  });
}

/** Who to tell about new requests: owners whose private conversation the bridge knows. */
export function ownerConversations(store: BridgeStore, allowlist: readonly string[]): ConversationRef[] {
  const refs = new Map<string, ConversationRef>();
  for (const row of store.listAllowed()) {
    if (row.kind !== 'user' || row.role !== 'owner') continue;
    const ref = store.userRef(row.id) ?? row.ref;
    if (ref) refs.set(conversationKey(ref), ref);
  }
  for (const id of allowlist) {
    const ref = store.userRef(id);
    if (ref) refs.set(conversationKey(ref), ref);
  }
  return [...refs.values()];
}

export function requestPromptText(platform: PlatformName, request: { requesterId: string; requesterName?: string; code: string }): string {
  const who = request.requesterName ? `${request.requesterName} (id ${request.requesterId})` : `id ${request.requesterId}`;
  return `New access request from ${who}. Approve or deny with the buttons, or send /approve ${request.code} or /deny ${request.code} (on the host: tether pair approve ${platform} ${request.code}).`;
}

export function requestReplyText(platform: PlatformName, senderId: string, code: string): string {
  return `This agent is private. Your ${platform} id is ${senderId}. To ask for access, give the owner this request code: ${code}\nThey approve it with: tether pair approve ${platform} ${code}\n(It expires in an hour.)`;
}
