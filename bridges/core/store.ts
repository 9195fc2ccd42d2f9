// The bridge's durable state in $STATE_DIR/<platform>.db: inbox, conversations, access, codes, ledger, cursor.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase, type Db, type Migration } from '../../lib/db.js';
import type { ConversationRef, PlatformName } from './adapter.js';
import type { Role } from './access.js';

const MIGRATIONS: Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE inbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        dedupe_key TEXT NOT NULL UNIQUE,
        conversation TEXT NOT NULL,
        ref TEXT NOT NULL,
        sender_id TEXT NOT NULL,
        text TEXT NOT NULL,
        status TEXT NOT NULL,            -- pending | done | handled (never a turn)
        attempts INTEGER NOT NULL DEFAULT 0,
        received_at INTEGER NOT NULL,
        told_waiting INTEGER NOT NULL DEFAULT 0,
        turn_id TEXT,
        error TEXT
      );
      CREATE INDEX inbox_pending ON inbox(status, conversation, id);
      CREATE TABLE conversations (
        key TEXT PRIMARY KEY,
        ref TEXT NOT NULL,
        thread_id TEXT,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE threads (
        thread_id TEXT PRIMARY KEY,
        conversation TEXT,               -- NULL: a thread of someone else, never relayed
        seen_at INTEGER NOT NULL
      );
      CREATE TABLE allowed (
        kind TEXT NOT NULL,              -- user | chat
        id TEXT NOT NULL,
        role TEXT NOT NULL,              -- owner | user
        added_by TEXT NOT NULL,
        added_at INTEGER NOT NULL,
        ref TEXT,                        -- where to reach this person (owner notices)
        PRIMARY KEY (kind, id)
      );
      CREATE TABLE codes (
        hash TEXT PRIMARY KEY,
        purpose TEXT NOT NULL,           -- pair (owner code, sent as /pair) | request (a stranger asking)
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER,
        request_id TEXT UNIQUE,
        requester_id TEXT,
        requester_name TEXT,
        conversation TEXT,
        ref TEXT
      );
      CREATE TABLE attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        sender TEXT NOT NULL,
        ok INTEGER NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE INDEX attempts_at ON attempts(at);
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ord REAL NOT NULL,
        conversation TEXT NOT NULL,
        ref TEXT NOT NULL,
        kind TEXT NOT NULL,              -- text | approval | approval_decided
        body TEXT NOT NULL,
        send_key TEXT NOT NULL,
        status TEXT NOT NULL,            -- pending | sending | sent | dropped
        attempts INTEGER NOT NULL DEFAULT 0,
        message_id TEXT,
        created_at INTEGER NOT NULL,
        sent_at INTEGER,
        error TEXT
      );
      CREATE INDEX outbox_open ON outbox(status, conversation, ord);
      CREATE TABLE approvals (
        approval_id TEXT PRIMARY KEY,
        conversation TEXT NOT NULL,
        thread_id TEXT NOT NULL,
        turn_id TEXT,
        tool TEXT NOT NULL,
        summary TEXT NOT NULL,
        status TEXT NOT NULL,            -- pending | decided
        decision TEXT,
        prompt_message_id TEXT,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX approvals_conversation ON approvals(conversation, status, created_at);
    `,
  },
  {
    version: 2,
    sql: `
      -- A button press waits in the inbox like a message (decided in order, in the background):
      -- {"approvalId": …, "decision": "approve" | "deny"}; NULL for a message.
      ALTER TABLE inbox ADD COLUMN action TEXT;
      -- Pairing lockouts as end times, so one holds its full hour whatever the window counts later.
      CREATE TABLE lockouts (
        sender TEXT PRIMARY KEY,         -- '<platform>:<user id>', or '*' for the freeze of all pairing
        locked_until INTEGER NOT NULL
      );
    `,
  },
];

export function bridgeDbFile(stateDir: string, platform: PlatformName): string {
  return join(stateDir, `${platform}.db`);
}

export type OutboundKind = 'text' | 'approval' | 'approval_decided';

export interface OutboundBody {
  text: string;
  approvalId?: string;
  tool?: string;
  summary?: string;
  /** approval_decided: the prompt message to edit. */
  promptMessageId?: string;
  /** Carries a code: the text is erased once sent, so the database never keeps a usable code. */
  secret?: boolean;
  /** A progress line: sent only when the send budget can spare it, else skipped (never delays a reply). */
  bestEffort?: boolean;
}

export interface OutboundRow {
  id: number;
  ord: number;
  conversation: string;
  ref: ConversationRef;
  kind: OutboundKind;
  body: OutboundBody;
  sendKey: string;
  status: 'pending' | 'sending' | 'sent' | 'dropped';
  attempts: number;
  createdAt: number;
}

export interface NewOutbound {
  ref: ConversationRef;
  kind: OutboundKind;
  body: OutboundBody;
}

/** A button press waiting in the inbox for the runtime. */
export interface InboxAction {
  approvalId: string;
  decision: 'approve' | 'deny';
}

export interface InboxRow {
  id: number;
  dedupeKey: string;
  conversation: string;
  ref: ConversationRef;
  senderId: string;
  text: string;
  attempts: number;
  receivedAt: number;
  toldWaiting: boolean;
  /** Set for a button press (its text is empty). */
  action?: InboxAction;
}

export interface AllowedRow {
  kind: 'user' | 'chat';
  id: string;
  role: Role;
  addedBy: string;
  addedAt: number;
  ref: ConversationRef | undefined;
}

export interface CodeRow {
  hash: string;
  purpose: 'pair' | 'request';
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  requestId: string | null;
  requesterId: string | null;
  requesterName: string | null;
  conversation: string | null;
  ref: ConversationRef | undefined;
}

export interface ApprovalRow {
  approvalId: string;
  conversation: string;
  threadId: string;
  turnId: string | null;
  tool: string;
  summary: string;
  /** `expired` (its turn ended first) needs no migration: the column is TEXT. */
  status: 'pending' | 'decided' | 'expired';
  /** Decided: approve, deny or unknown. Expired: why (cancelled, failed, interrupted, ended). */
  decision: string | null;
  promptMessageId: string | null;
}

type Raw = Record<string, unknown>;

/** The `lockouts` row of the freeze of all pairing (a sender is always `<platform>:<id>`). */
export const GLOBAL_LOCKOUT = '*';

/** SQL for a secret row's body once the code in it is no longer needed: every field that could hold it is erased. */
type Statement = Database.Statement<unknown[]>;

const SCRUBBED_BODY = "json_set(body, '$.text', '[code erased after sending]', '$.summary', '[code erased after sending]')";
const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const json = <T>(v: unknown): T => JSON.parse(String(v)) as T;

function outboundFrom(r: Raw): OutboundRow {
  return {
    id: Number(r.id),
    ord: Number(r.ord),
    conversation: str(r.conversation),
    ref: json<ConversationRef>(r.ref),
    kind: str(r.kind) as OutboundKind,
    body: json<OutboundBody>(r.body),
    sendKey: str(r.send_key),
    status: str(r.status) as OutboundRow['status'],
    attempts: Number(r.attempts),
    createdAt: Number(r.created_at),
  };
}

function codeFrom(r: Raw): CodeRow {
  return {
    hash: str(r.hash),
    purpose: str(r.purpose) as CodeRow['purpose'],
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    usedAt: r.used_at === null ? null : Number(r.used_at),
    requestId: strOrNull(r.request_id),
    requesterId: strOrNull(r.requester_id),
    requesterName: strOrNull(r.requester_name),
    conversation: strOrNull(r.conversation),
    ref: r.ref === null ? undefined : json<ConversationRef>(r.ref),
  };
}

function approvalFrom(r: Raw): ApprovalRow {
  return {
    approvalId: str(r.approval_id),
    conversation: str(r.conversation),
    threadId: str(r.thread_id),
    turnId: strOrNull(r.turn_id),
    tool: str(r.tool),
    summary: str(r.summary),
    status: str(r.status) as ApprovalRow['status'],
    decision: strOrNull(r.decision),
    promptMessageId: strOrNull(r.prompt_message_id),
  };
}

/** Typed queries over one bridge database. Every method is one statement or one transaction. */
export class BridgeStore {
  readonly db: Db;
  private readonly statements = new Map<string, Statement>();

  constructor(
    readonly file: string,
    readonly platform: PlatformName,
  ) {
    this.db = openDatabase(file, MIGRATIONS, `${platform} bridge`);
  }

  static open(stateDir: string, platform: PlatformName): BridgeStore {
    return new BridgeStore(bridgeDbFile(stateDir, platform), platform);
  }

  close(): void {
    this.statements.clear();
    this.db.close();
  }

  /** A statement compiled once per store: a relayed message runs about a dozen, each compile costs more than the run. */
  private sql(text: string): Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /**
   * A transaction whose commit is not synced to disk, for rows that can be derived again when
   * lost: the conversation → thread map (the thread is found again by its metadata) and what
   * runtime events imply (ledger rows, thread map, cursor: committed together, so losing them
   * only replays those events). Only a power cut or an OS crash can lose such a commit (a killed
   * process cannot: the OS has the write), and only the newest ones: WAL commits are recovered
   * in order and every synced commit syncs all before it. So a platform send, marked `sending`
   * in a synced commit first, never rests on a row that can still vanish. Inside another
   * transaction it joins that one, synced as that one is.
   */
  unsyncedTransaction<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    // Not through sql(): SQLite applies this pragma when the statement is compiled, not when run.
    this.db.pragma('synchronous = NORMAL');
    try {
      return this.db.transaction(fn)();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  // ---------- kv

  getKv(key: string): string | undefined {
    const r = this.sql('SELECT value FROM kv WHERE key = ?').get(key) as Raw | undefined;
    return r ? str(r.value) : undefined;
  }

  setKv(key: string, value: string): void {
    this.sql('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** The per-install salt of code hashes; created on first use. */
  salt(): string {
    return this.transaction(() => {
      const existing = this.getKv('code_salt');
      if (existing) return existing;
      const salt = randomBytes(16).toString('hex');
      this.setKv('code_salt', salt);
      return salt;
    });
  }

  /**
   * Events before this time are history: on a bridge's very first start (or after its database
   * was lost) the runtime's past turns are not relayed again. Set once, on first use.
   */
  relaySince(now: number): number {
    return this.transaction(() => {
      const v = this.getKv('relay_since');
      if (v !== undefined) return Number(v);
      this.setKv('relay_since', String(now));
      return now;
    });
  }

  /** Forgets what no longer matters: old dedupe keys (a week is far beyond any redelivery), sent rows, attempts. */
  prune(now: number): void {
    const week = now - 7 * 24 * 3600_000;
    const day = now - 24 * 3600_000;
    this.transaction(() => {
      this.sql("DELETE FROM inbox WHERE status IN ('done', 'handled') AND received_at < ?").run(week);
      this.sql("DELETE FROM outbox WHERE status IN ('sent', 'dropped') AND created_at < ?").run(week);
      this.sql('DELETE FROM attempts WHERE at < ?').run(day);
      this.sql('DELETE FROM lockouts WHERE locked_until < ?').run(now);
      this.sql('DELETE FROM codes WHERE expires_at < ? OR (used_at IS NOT NULL AND used_at < ?)').run(day, day);
      this.sql("DELETE FROM approvals WHERE status IN ('decided', 'expired') AND created_at < ?").run(week);
    });
  }

  eventCursor(): number {
    return Number(this.getKv('event_cursor') ?? '0');
  }

  setEventCursor(seq: number): void {
    this.setKv('event_cursor', String(seq));
  }

  // ---------- inbox

  /** False when the dedupe key was seen before (a redelivery). */
  insertInbound(row: { dedupeKey: string; ref: ConversationRef; conversation: string; senderId: string; text: string; status: 'pending' | 'handled'; now: number }): boolean {
    const r = this
      .sql('INSERT INTO inbox (dedupe_key, conversation, ref, sender_id, text, status, received_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(dedupe_key) DO NOTHING')
      .run(row.dedupeKey, row.conversation, JSON.stringify(row.ref), row.senderId, row.status === 'handled' ? '' : row.text, row.status, row.now);
    return r.changes === 1;
  }

  hasInbound(dedupeKey: string): boolean {
    return this.sql('SELECT 1 FROM inbox WHERE dedupe_key = ?').get(dedupeKey) !== undefined;
  }

  pendingInboxConversations(): string[] {
    return (this.sql("SELECT DISTINCT conversation FROM inbox WHERE status = 'pending'").all() as Raw[]).map((r) => str(r.conversation));
  }

  nextInbound(conversation: string): InboxRow | undefined {
    const r = this.sql("SELECT * FROM inbox WHERE status = 'pending' AND conversation = ? ORDER BY id LIMIT 1").get(conversation) as Raw | undefined;
    if (!r) return undefined;
    return {
      id: Number(r.id),
      dedupeKey: str(r.dedupe_key),
      conversation: str(r.conversation),
      ref: json<ConversationRef>(r.ref),
      senderId: str(r.sender_id),
      text: str(r.text),
      attempts: Number(r.attempts),
      receivedAt: Number(r.received_at),
      toldWaiting: Number(r.told_waiting) === 1,
      ...(r.action !== null ? { action: json<InboxAction>(r.action) } : {}),
    };
  }

  /** Turns a press just recorded as handled into one waiting for the runtime, in its conversation's order. */
  queueAction(dedupeKey: string, action: InboxAction): void {
    this.sql("UPDATE inbox SET status = 'pending', action = ? WHERE dedupe_key = ?").run(JSON.stringify(action), dedupeKey);
  }

  /** A press of this approval is already waiting: another one adds nothing. */
  hasPendingAction(approvalId: string): boolean {
    return this.sql("SELECT 1 FROM inbox WHERE status = 'pending' AND action IS NOT NULL AND json_extract(action, '$.approvalId') = ?").get(approvalId) !== undefined;
  }

  inboxDepth(): number {
    return Number((this.sql("SELECT COUNT(*) AS n FROM inbox WHERE status = 'pending'").get() as Raw).n);
  }

  /** `forgetText`: the text is erased (a command that may carry a code is not kept once answered). */
  finishInbound(id: number, fields: { turnId?: string; error?: string; forgetText?: boolean }): void {
    this
      .sql("UPDATE inbox SET status = 'done', turn_id = ?, error = ?, text = CASE WHEN ? THEN '' ELSE text END WHERE id = ?")
      .run(fields.turnId ?? null, fields.error ?? null, fields.forgetText ? 1 : 0, id);
  }

  noteInboundAttempt(id: number, toldWaiting: boolean): void {
    this.sql('UPDATE inbox SET attempts = attempts + 1, told_waiting = MAX(told_waiting, ?) WHERE id = ?').run(toldWaiting ? 1 : 0, id);
  }

  // ---------- conversations and threads

  rememberConversation(conversation: string, ref: ConversationRef, now: number): void {
    this
      .sql('INSERT INTO conversations (key, ref, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET ref = excluded.ref, updated_at = excluded.updated_at')
      .run(conversation, JSON.stringify(ref), now);
  }

  conversation(conversation: string): { ref: ConversationRef; threadId: string | null } | undefined {
    const r = this.sql('SELECT ref, thread_id FROM conversations WHERE key = ?').get(conversation) as Raw | undefined;
    return r ? { ref: json<ConversationRef>(r.ref), threadId: strOrNull(r.thread_id) } : undefined;
  }

  /**
   * Maps the conversation to its thread. Not synced (see unsyncedTransaction): the map is a cache
   * of what the thread's metadata says, so a lost row costs one lookup by metadata, which finds
   * the same thread.
   */
  setConversationThread(conversation: string, ref: ConversationRef, threadId: string, now: number): void {
    this.unsyncedTransaction(() => {
      this
        .sql('INSERT INTO conversations (key, ref, thread_id, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET thread_id = excluded.thread_id, ref = excluded.ref, updated_at = excluded.updated_at')
        .run(conversation, JSON.stringify(ref), threadId, now);
      this.rememberThread(threadId, conversation, now);
    });
  }

  anyConversationThread(): string | undefined {
    const r = this.sql('SELECT thread_id FROM conversations WHERE thread_id IS NOT NULL ORDER BY updated_at DESC LIMIT 1').get() as Raw | undefined;
    return r ? str(r.thread_id) : undefined;
  }

  clearConversationThread(conversation: string): void {
    this.sql('UPDATE conversations SET thread_id = NULL WHERE key = ?').run(conversation);
  }

  /** undefined: never seen; null: a thread that is not this bridge's. */
  threadConversation(threadId: string): string | null | undefined {
    const r = this.sql('SELECT conversation FROM threads WHERE thread_id = ?').get(threadId) as Raw | undefined;
    return r ? strOrNull(r.conversation) : undefined;
  }

  rememberThread(threadId: string, conversation: string | null, now: number): void {
    this
      .sql('INSERT INTO threads (thread_id, conversation, seen_at) VALUES (?, ?, ?) ON CONFLICT(thread_id) DO UPDATE SET conversation = COALESCE(excluded.conversation, threads.conversation), seen_at = excluded.seen_at')
      .run(threadId, conversation, now);
  }

  /** The platform gave a conversation a new id: everything of the old one follows it. */
  moveConversation(from: string, to: string, toRef: ConversationRef, now: number): void {
    this.transaction(() => {
      const old = this.conversation(from);
      this.sql('DELETE FROM conversations WHERE key = ?').run(from);
      this
        .sql('INSERT INTO conversations (key, ref, thread_id, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET ref = excluded.ref, thread_id = COALESCE(conversations.thread_id, excluded.thread_id), updated_at = excluded.updated_at')
        .run(to, JSON.stringify(toRef), old?.threadId ?? null, now);
      this.sql('UPDATE threads SET conversation = ? WHERE conversation = ?').run(to, from);
      this.sql('UPDATE approvals SET conversation = ? WHERE conversation = ?').run(to, from);
      this.sql("UPDATE outbox SET conversation = ?, ref = ? WHERE conversation = ? AND status IN ('pending', 'sending')").run(to, JSON.stringify(toRef), from);
      this.sql("UPDATE inbox SET conversation = ?, ref = ? WHERE conversation = ? AND status = 'pending'").run(to, JSON.stringify(toRef), from);
      const oldChatId = from.split(':')[0]!;
      this.sql("UPDATE allowed SET id = ? WHERE kind = 'chat' AND id = ? AND NOT EXISTS (SELECT 1 FROM allowed WHERE kind = 'chat' AND id = ?)").run(toRef.chatId, oldChatId, toRef.chatId);
    });
  }

  // ---------- access

  allowedRole(kind: 'user' | 'chat', id: string): Role | undefined {
    const r = this.sql('SELECT role FROM allowed WHERE kind = ? AND id = ?').get(kind, id) as Raw | undefined;
    return r ? (str(r.role) as Role) : undefined;
  }

  allow(row: { kind: 'user' | 'chat'; id: string; role: Role; addedBy: string; ref?: ConversationRef; now: number }): void {
    this
      .sql('INSERT INTO allowed (kind, id, role, added_by, added_at, ref) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(kind, id) DO UPDATE SET role = CASE WHEN allowed.role = \'owner\' THEN \'owner\' ELSE excluded.role END, ref = COALESCE(excluded.ref, allowed.ref)')
      .run(row.kind, row.id, row.role, row.addedBy, row.now, row.ref ? JSON.stringify(row.ref) : null);
  }

  /** Removes a user or chat id; returns how many rows went. */
  revoke(id: string): number {
    return this.sql('DELETE FROM allowed WHERE id = ?').run(id).changes;
  }

  listAllowed(): AllowedRow[] {
    return (this.sql('SELECT * FROM allowed ORDER BY added_at, id').all() as Raw[]).map((r) => ({
      kind: str(r.kind) as AllowedRow['kind'],
      id: str(r.id),
      role: str(r.role) as Role,
      addedBy: str(r.added_by),
      addedAt: Number(r.added_at),
      ref: r.ref === null ? undefined : json<ConversationRef>(r.ref),
    }));
  }

  /** Where a user can be reached privately (remembered when they last wrote in a private chat). */
  setUserRef(userId: string, ref: ConversationRef): void {
    this.sql("UPDATE allowed SET ref = ? WHERE kind = 'user' AND id = ?").run(JSON.stringify(ref), userId);
    this.setKv(`user_ref:${userId}`, JSON.stringify(ref));
  }

  userRef(userId: string): ConversationRef | undefined {
    const v = this.getKv(`user_ref:${userId}`);
    return v ? (JSON.parse(v) as ConversationRef) : undefined;
  }

  // ---------- codes and attempts

  insertCode(row: Omit<CodeRow, 'usedAt'>): void {
    this
      .sql('INSERT INTO codes (hash, purpose, created_at, expires_at, request_id, requester_id, requester_name, conversation, ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(row.hash, row.purpose, row.createdAt, row.expiresAt, row.requestId, row.requesterId, row.requesterName, row.conversation, row.ref ? JSON.stringify(row.ref) : null);
  }

  code(hash: string, purpose: CodeRow['purpose']): CodeRow | undefined {
    const r = this.sql('SELECT * FROM codes WHERE hash = ? AND purpose = ?').get(hash, purpose) as Raw | undefined;
    return r ? codeFrom(r) : undefined;
  }

  requestById(requestId: string): CodeRow | undefined {
    const r = this.sql("SELECT * FROM codes WHERE request_id = ? AND purpose = 'request'").get(requestId) as Raw | undefined;
    return r ? codeFrom(r) : undefined;
  }

  /** Marks a code used; false when another process or press used it first. */
  useCode(hash: string, now: number): boolean {
    return this.sql('UPDATE codes SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ?').run(now, hash, now).changes === 1;
  }

  latestRequest(conversation: string): CodeRow | undefined {
    const r = this.sql("SELECT * FROM codes WHERE purpose = 'request' AND conversation = ? ORDER BY created_at DESC LIMIT 1").get(conversation) as Raw | undefined;
    return r ? codeFrom(r) : undefined;
  }

  /** A new request replaces the older open ones of the same chat (their codes stop working). */
  expireRequests(conversation: string, now: number): void {
    this.sql("UPDATE codes SET expires_at = ? WHERE purpose = 'request' AND conversation = ? AND used_at IS NULL AND expires_at > ?").run(now, conversation, now);
  }

  openCodes(now: number): CodeRow[] {
    return (this.sql('SELECT * FROM codes WHERE used_at IS NULL AND expires_at > ? ORDER BY created_at').all(now) as Raw[]).map(codeFrom);
  }

  recordAttempt(sender: string, ok: boolean, now: number): void {
    this.sql('INSERT INTO attempts (sender, ok, at) VALUES (?, ?, ?)').run(sender, ok ? 1 : 0, now);
  }

  /** When `sender`'s lockout ends (GLOBAL_LOCKOUT: the freeze of all pairing); undefined when never locked. */
  lockedUntil(sender: string): number | undefined {
    const r = this.sql('SELECT locked_until FROM lockouts WHERE sender = ?').get(sender) as Raw | undefined;
    return r ? Number(r.locked_until) : undefined;
  }

  lockUntil(sender: string, until: number): void {
    this.sql('INSERT INTO lockouts (sender, locked_until) VALUES (?, ?) ON CONFLICT(sender) DO UPDATE SET locked_until = MAX(locked_until, excluded.locked_until)').run(sender, until);
  }

  wrongAttempts(since: number, sender?: string): number {
    const r = (sender === undefined
      ? this.sql('SELECT COUNT(*) AS n FROM attempts WHERE ok = 0 AND at > ?').get(since)
      : this.sql('SELECT COUNT(*) AS n FROM attempts WHERE ok = 0 AND at > ? AND sender = ?').get(since, sender)) as Raw;
    return Number(r.n);
  }

  // ---------- outbox (delivery ledger)

  enqueue(rows: NewOutbound[], now: number, conversationOf: (ref: ConversationRef) => string): number[] {
    const insert = this.sql("INSERT INTO outbox (ord, conversation, ref, kind, body, send_key, status, created_at) VALUES ((SELECT COALESCE(MAX(ord), 0) + 1 FROM outbox), ?, ?, ?, ?, '', 'pending', ?)");
    const key = this.sql('UPDATE outbox SET send_key = ? WHERE id = ?');
    const ids: number[] = [];
    this.transaction(() => {
      for (const row of rows) {
        const id = Number(insert.run(conversationOf(row.ref), JSON.stringify(row.ref), row.kind, JSON.stringify(row.body), now).lastInsertRowid);
        key.run(`${this.platform}:out:${id}`, id);
        ids.push(id);
      }
    });
    return ids;
  }

  /** Conversations with rows to send, oldest first. */
  openOutboxConversations(): string[] {
    return (this.sql("SELECT conversation, MIN(ord) AS o FROM outbox WHERE status IN ('pending', 'sending') GROUP BY conversation ORDER BY o").all() as Raw[]).map((r) => str(r.conversation));
  }

  nextOutbound(conversation: string): OutboundRow | undefined {
    const r = this.sql("SELECT * FROM outbox WHERE status IN ('pending', 'sending') AND conversation = ? ORDER BY ord LIMIT 1").get(conversation) as Raw | undefined;
    return r ? outboundFrom(r) : undefined;
  }

  outbound(id: number): OutboundRow | undefined {
    const r = this.sql('SELECT * FROM outbox WHERE id = ?').get(id) as Raw | undefined;
    return r ? outboundFrom(r) : undefined;
  }

  markSending(id: number): void {
    this.sql("UPDATE outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ?").run(id);
  }

  markSent(id: number, messageId: string, now: number): void {
    this.sql("UPDATE outbox SET status = 'sent', message_id = ?, sent_at = ?, error = NULL WHERE id = ?").run(messageId, now, id);
  }

  /** Erases every field of a secret row that can hold a code (the text, an owner prompt's summary). */
  scrubSecret(id: number): void {
    this.sql(`UPDATE outbox SET body = ${SCRUBBED_BODY} WHERE id = ? AND json_extract(body, '$.secret') = 1`).run(id);
  }

  noteSendError(id: number, error: string): void {
    this.sql('UPDATE outbox SET error = ? WHERE id = ?').run(error, id);
  }

  /** A chat that is gone takes its pending rows with it (codes in them erased); returns how many were dropped. */
  dropConversation(conversation: string, reason: string): number {
    return this
      .sql(`UPDATE outbox SET status = 'dropped', error = ?, body = CASE WHEN json_extract(body, '$.secret') = 1 THEN ${SCRUBBED_BODY} ELSE body END WHERE conversation = ? AND status IN ('pending', 'sending')`)
      .run(reason, conversation).changes;
  }

  /** The platform refused this one row: it alone is dropped (a code in it erased). */
  dropOutbound(id: number, reason: string): void {
    this.sql(`UPDATE outbox SET status = 'dropped', error = ?, body = CASE WHEN json_extract(body, '$.secret') = 1 THEN ${SCRUBBED_BODY} ELSE body END WHERE id = ?`).run(reason, id);
  }

  /** Replaces one row by several smaller ones in its place, keeping the order (an approval prompt's may change kind). */
  splitOutbound(row: OutboundRow, parts: Array<{ kind: OutboundKind; body: OutboundBody }>): void {
    const [first, ...rest] = parts;
    if (first === undefined) return;
    const next = this.sql("SELECT MIN(ord) AS o FROM outbox WHERE ord > ?").get(row.ord) as Raw;
    const ceiling = next.o === null ? row.ord + 1 : Number(next.o);
    const step = (ceiling - row.ord) / (rest.length + 1);
    this.transaction(() => {
      this.sql("UPDATE outbox SET kind = ?, body = ?, status = 'pending' WHERE id = ?").run(first.kind, JSON.stringify(first.body), row.id);
      const insert = this.sql("INSERT INTO outbox (ord, conversation, ref, kind, body, send_key, status, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)");
      rest.forEach((p, i) => insert.run(row.ord + step * (i + 1), row.conversation, JSON.stringify(row.ref), p.kind, JSON.stringify(p.body), `${row.sendKey}.${i + 1}`, row.createdAt));
    });
  }

  outboxDepth(): number {
    return Number((this.sql("SELECT COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'sending')").get() as Raw).n);
  }

  sentMessageId(id: number): string | undefined {
    const r = this.sql('SELECT message_id FROM outbox WHERE id = ?').get(id) as Raw | undefined;
    return r && r.message_id !== null ? str(r.message_id) : undefined;
  }

  // ---------- approvals

  recordApproval(a: { approvalId: string; conversation: string; threadId: string; turnId?: string; tool: string; summary: string; now: number }): void {
    this
      .sql("INSERT INTO approvals (approval_id, conversation, thread_id, turn_id, tool, summary, status, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?) ON CONFLICT(approval_id) DO NOTHING")
      .run(a.approvalId, a.conversation, a.threadId, a.turnId ?? null, a.tool, a.summary, a.now);
  }

  approval(approvalId: string): ApprovalRow | undefined {
    const r = this.sql('SELECT * FROM approvals WHERE approval_id = ?').get(approvalId) as Raw | undefined;
    return r ? approvalFrom(r) : undefined;
  }

  latestPendingApproval(conversation: string): ApprovalRow | undefined {
    const r = this.sql("SELECT * FROM approvals WHERE conversation = ? AND status = 'pending' ORDER BY created_at DESC, rowid DESC LIMIT 1").get(conversation) as Raw | undefined;
    return r ? approvalFrom(r) : undefined;
  }

  decideApprovalRow(approvalId: string, decision: string): boolean {
    return this.sql("UPDATE approvals SET status = 'decided', decision = ? WHERE approval_id = ? AND status = 'pending'").run(decision, approvalId).changes === 1;
  }

  /** A turn ended: its approvals still pending can no longer be decided. Returns them, as they were. */
  expireTurnApprovals(threadId: string, turnId: string, reason: string): ApprovalRow[] {
    const match = "status = 'pending' AND (turn_id = ? OR (turn_id IS NULL AND thread_id = ?))";
    const rows = (this.sql(`SELECT * FROM approvals WHERE ${match}`).all(turnId, threadId) as Raw[]).map(approvalFrom);
    this.sql(`UPDATE approvals SET status = 'expired', decision = ? WHERE ${match}`).run(reason, turnId, threadId);
    return rows;
  }

  setApprovalPrompt(approvalId: string, messageId: string): void {
    this.sql('UPDATE approvals SET prompt_message_id = ? WHERE approval_id = ?').run(messageId, approvalId);
  }
}
