// Typed queries over runtime.db; every change and the events it implies commit in one transaction.
import { chmodSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { ApprovalMode } from '../../lib/config.js';
import { isStorageFull, openDatabase, type Db } from '../../lib/db.js';
import { HttpError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { Usage } from '../models/types.js';
import { RUNTIME_MIGRATIONS } from './schema.js';
import type { Approval, ApprovalStatus, EventType, RuntimeEvent, Thread, Turn, TurnStatus } from './types.js';

export const DB_FILE = 'runtime.db';
/** A metadata pair this many threads have is not worth driving a lookup from: walking the newest threads finds matches soon. */
const RARE_ENOUGH = 32;
/** How long streamed text may wait to share one commit (and one message.delta event). */
const DELTA_COALESCE_MS = 8;

interface ThreadRow {
  id: string;
  title: string;
  model: string | null;
  approval: string | null;
  metadata: string;
  archived: number;
  created_at: string;
  updated_at: string;
  last_seq: number;
  busy: number;
}

interface TurnRow {
  id: string;
  thread_id: string;
  input: string;
  status: TurnStatus;
  output: string;
  error: string | null;
  usage: string | null;
  idempotency_key: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

interface EventRow {
  seq: number;
  type: EventType;
  thread_id: string;
  turn_id: string | null;
  at: string;
  payload: string;
}

interface ApprovalRow {
  id: string;
  thread_id: string;
  turn_id: string;
  tool: string;
  summary: string;
  status: ApprovalStatus;
  created_at: string;
  decided_at: string | null;
}

export interface ThreadDefaults {
  model: string;
  approval: ApprovalMode;
}

export interface ThreadFilter {
  limit: number;
  metadata: Record<string, string>;
  archived?: boolean;
}

export interface ThreadChanges {
  title?: string;
  model?: string | null;
  approval?: ApprovalMode | null;
  archived?: boolean;
  /** Replaces the thread's metadata as a whole (and its lookup rows). */
  metadata?: Record<string, string>;
}

/** A write failed because the disk is full or the state dir went read-only; nothing was committed. */
export function storageUnavailable(err: unknown): HttpError {
  return new HttpError(503, 'storage_unavailable', `the runtime cannot write its state (${(err as Error).message}); nothing was saved: free disk space or fix permissions of TETHER_STATE_DIR, then retry`);
}

const THREAD_COLUMNS = `t.id, t.title, t.model, t.approval, t.metadata, t.archived, t.created_at, t.updated_at, t.last_seq,
  EXISTS (SELECT 1 FROM turns u WHERE u.thread_id = t.id AND u.status IN ('queued','running','awaiting_approval')) AS busy`;
const TURN_COLUMNS = 'id, thread_id, input, status, output, error, usage, idempotency_key, created_at, started_at, finished_at';

export function nowIso(): string {
  return new Date().toISOString();
}

export class RuntimeStore {
  private readonly listeners = new Set<(e: RuntimeEvent) => void>();
  private committing: RuntimeEvent[] = [];
  private depth = 0;
  private readonly pendingDeltas = new Map<string, { threadId: string; text: string }>();
  private deltaTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly statements = new Map<string, Database.Statement<unknown[]>>();

  private constructor(
    readonly db: Db,
    private readonly defaults: ThreadDefaults,
    private readonly logger: Logger,
  ) {}

  static open(file: string, defaults: ThreadDefaults, logger: Logger): RuntimeStore {
    const db = openDatabase(file, RUNTIME_MIGRATIONS, 'runtime');
    // Conversations and tool output are private: only this user may read them.
    for (const f of [file, `${file}-wal`, `${file}-shm`]) {
      try {
        chmodSync(f, 0o600);
      } catch {
        // -wal/-shm exist only while the database is open in WAL mode
      }
    }
    return new RuntimeStore(db, defaults, logger);
  }

  /**
   * A statement compiled once per store: compiling costs about as much as running one of these
   * (a turn runs a few dozen). Statements read with iterate() are compiled per call instead: a
   * cached one still being iterated could not run again meanwhile.
   */
  private sql(text: string): Database.Statement<unknown[]> {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  /** Called with each event after its transaction committed, in seq order. */
  onEvent(listener: (e: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs `fn` in one transaction (nested calls join the outer one); events appended inside are
   * published only after the commit. A full disk or read-only state dir becomes storage_unavailable.
   */
  write<T>(fn: () => T): T {
    if (this.depth > 0) return fn();
    this.depth++;
    let result: T;
    const deltas = [...this.pendingDeltas];
    try {
      result = this.db.transaction(() => {
        for (const [turnId, { threadId, text }] of deltas) this.appendEvent('message.delta', threadId, turnId, { text });
        return fn();
      })();
      // Only committed text leaves the buffer; after a failed write it goes out with the next one.
      for (const [turnId] of deltas) this.pendingDeltas.delete(turnId);
    } catch (err) {
      this.committing = [];
      if (isStorageFull(err)) throw storageUnavailable(err);
      throw err;
    } finally {
      this.depth--;
    }
    const committed = this.committing;
    this.committing = [];
    for (const e of committed) this.publish(e);
    return result;
  }

  private publish(e: RuntimeEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.logger.error('event listener failed', { err, seq: e.seq });
      }
    }
  }

  // ---------- events

  /** Appends an event inside the current write(); it is streamed once committed. */
  appendEvent(type: EventType, threadId: string, turnId: string | null, payload: Record<string, unknown> = {}): RuntimeEvent {
    if (this.depth === 0) return this.write(() => this.appendEvent(type, threadId, turnId, payload));
    const at = nowIso();
    const info = this.sql('INSERT INTO events (type, thread_id, turn_id, at, payload) VALUES (?, ?, ?, ?, ?)').run(type, threadId, turnId, at, JSON.stringify(payload));
    const seq = Number(info.lastInsertRowid);
    if (threadId !== null) this.sql('UPDATE threads SET last_seq = ? WHERE id = ?').run(seq, threadId);
    const event: RuntimeEvent = { ...payload, seq, type, thread_id: threadId, turn_id: turnId, at };
    this.committing.push(event);
    return event;
  }

  /**
   * Streamed model text: pieces arriving within a few milliseconds share one commit and one
   * message.delta event, so a fast model does not cost one fsync per token. Any other write of
   * the runtime flushes them first, so order is kept.
   */
  appendDelta(threadId: string, turnId: string, text: string): void {
    if (text === '') return;
    const pending = this.pendingDeltas.get(turnId);
    if (pending) pending.text += text;
    else this.pendingDeltas.set(turnId, { threadId, text });
    this.deltaTimer ??= setTimeout(() => {
      this.deltaTimer = undefined;
      this.flushDeltas();
    }, DELTA_COALESCE_MS);
  }

  /** Commits buffered deltas now (before a turn's next step, on stop). */
  flushDeltas(): void {
    if (this.pendingDeltas.size === 0 || this.closed) return;
    try {
      this.write(() => undefined);
    } catch (err) {
      // The text stays buffered and goes out with the next successful write.
      this.logger.error('cannot commit streamed text', { err });
    }
  }

  lastSeq(): number {
    const row = this.sql("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  /**
   * Events after `after`, oldest first: at most `limit`, and no more once `maxBytes` of payload
   * were read (the first event always comes, whatever its size). Rows are read one by one, so the
   * bound also holds for memory.
   */
  eventsAfter(after: number, limit: number, threadId?: string, maxBytes = Infinity): RuntimeEvent[] {
    const rows = (
      threadId === undefined
        ? this.db.prepare('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?').iterate(after, limit)
        : this.db.prepare('SELECT * FROM events WHERE thread_id = ? AND seq > ? ORDER BY seq LIMIT ?').iterate(threadId, after, limit)
    ) as IterableIterator<EventRow>;
    const events: RuntimeEvent[] = [];
    let bytes = 0;
    for (const r of rows) {
      events.push({ ...(JSON.parse(r.payload) as Record<string, unknown>), seq: r.seq, type: r.type, thread_id: r.thread_id, turn_id: r.turn_id, at: r.at });
      bytes += r.payload.length;
      if (bytes >= maxBytes) break;
    }
    return events;
  }

  // ---------- threads

  private renderThread(r: ThreadRow): Thread {
    return {
      id: r.id,
      title: r.title,
      created_at: r.created_at,
      updated_at: r.updated_at,
      model: r.model ?? this.defaults.model,
      approval: (r.approval as ApprovalMode | null) ?? this.defaults.approval,
      metadata: JSON.parse(r.metadata) as Record<string, string>,
      archived: r.archived === 1,
      status: r.busy ? 'busy' : 'idle',
      last_seq: r.last_seq,
    };
  }

  /** The approval mode the thread asked for, or undefined when it follows TETHER_APPROVAL. */
  threadOverrides(id: string): { model: string | null; approval: ApprovalMode | null } | undefined {
    return this.sql('SELECT model, approval FROM threads WHERE id = ?').get(id) as { model: string | null; approval: ApprovalMode | null } | undefined;
  }

  getThread(id: string): Thread | undefined {
    const row = this.sql(`SELECT ${THREAD_COLUMNS} FROM threads t WHERE t.id = ?`).get(id) as ThreadRow | undefined;
    return row && this.renderThread(row);
  }

  insertThread(t: { id: string; title: string; model: string | null; approval: ApprovalMode | null; metadata: Record<string, string> }): Thread {
    return this.write(() => {
      const at = nowIso();
      this.sql('INSERT INTO threads (id, title, model, approval, metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(t.id, t.title, t.model, t.approval, JSON.stringify(t.metadata), at, at);
      const insertMeta = this.sql('INSERT INTO thread_metadata (thread_id, key, value) VALUES (?, ?, ?)');
      for (const [k, v] of Object.entries(t.metadata)) insertMeta.run(t.id, k, v);
      return this.emitThread('thread.created', t.id);
    });
  }

  /**
   * With `reuse` keys: the newest thread that is not archived and has `t.metadata`'s value for
   * each of them, if there is one (created: false, nothing written); else `t`, inserted. The
   * lookup and the insert are one transaction, so two such calls at once make one thread.
   */
  reuseOrInsertThread(t: { id: string; title: string; model: string | null; approval: ApprovalMode | null; metadata: Record<string, string> }, reuse: readonly string[]): { thread: Thread; created: boolean } {
    return this.write(() => {
      if (reuse.length > 0) {
        const [found] = this.listThreads({ limit: 1, archived: false, metadata: Object.fromEntries(reuse.map((k) => [k, t.metadata[k] ?? ''])) });
        if (found) return { thread: found, created: false };
      }
      return { thread: this.insertThread(t), created: true };
    });
  }

  updateThread(id: string, changes: ThreadChanges): Thread {
    return this.write(() => {
      const sets: string[] = [];
      const values: unknown[] = [];
      if (changes.title !== undefined) {
        sets.push('title = ?');
        values.push(changes.title);
      }
      if (changes.model !== undefined) {
        sets.push('model = ?');
        values.push(changes.model);
      }
      if (changes.approval !== undefined) {
        sets.push('approval = ?');
        values.push(changes.approval);
      }
      if (changes.archived !== undefined) {
        sets.push('archived = ?');
        values.push(changes.archived ? 1 : 0);
      }
      if (changes.metadata !== undefined) {
        sets.push('metadata = ?');
        values.push(JSON.stringify(changes.metadata));
      }
      sets.push('updated_at = ?');
      values.push(nowIso(), id);
      this.sql(`UPDATE threads SET ${sets.join(', ')} WHERE id = ?`).run(...values);
      if (changes.metadata !== undefined) {
        this.sql('DELETE FROM thread_metadata WHERE thread_id = ?').run(id);
        const insertMeta = this.sql('INSERT INTO thread_metadata (thread_id, key, value) VALUES (?, ?, ?)');
        for (const [k, v] of Object.entries(changes.metadata)) insertMeta.run(id, k, v);
      }
      return this.emitThread('thread.updated', id);
    });
  }

  /** Emits thread.created/updated with the full thread; last_seq in it is the event's own seq. */
  private emitThread(type: 'thread.created' | 'thread.updated', id: string): Thread {
    const before = this.getThread(id)!;
    const seq = this.lastSeq() + 1;
    const event = this.appendEvent(type, id, null, { thread: { ...before, last_seq: seq } });
    return { ...before, last_seq: event.seq };
  }

  listThreads(filter: ThreadFilter): Thread[] {
    const where: string[] = [];
    const values: unknown[] = [];
    const { pairs, rare } = this.rarestFirst(Object.entries(filter.metadata));
    // A pair few threads have drives the lookup through the (key, value) index (a bridge looks up
    // on every new conversation); otherwise SQLite walks the threads newest first, testing each,
    // which costs as much as the history is long unless most threads match.
    pairs.forEach(([k, v], i) => {
      where.push(i === 0 && rare ? 't.id IN (SELECT m.thread_id FROM thread_metadata m WHERE m.key = ? AND m.value = ?)' : 'EXISTS (SELECT 1 FROM thread_metadata m WHERE m.thread_id = t.id AND m.key = ? AND m.value = ?)');
      values.push(k, v);
    });
    if (filter.archived !== undefined) {
      where.push('t.archived = ?');
      values.push(filter.archived ? 1 : 0);
    }
    const sql = `SELECT ${THREAD_COLUMNS} FROM threads t ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY t.n DESC LIMIT ?`;
    return (this.sql(sql).all(...values, filter.limit) as ThreadRow[]).map((r) => this.renderThread(r));
  }

  /**
   * Metadata pairs, the one fewest threads have first, and whether that one is rare (fewer than
   * RARE_ENOUGH threads). Counted only up to that bound, so this costs the same with any history.
   */
  private rarestFirst(pairs: Array<[string, string]>): { pairs: Array<[string, string]>; rare: boolean } {
    if (pairs.length === 0) return { pairs, rare: false };
    const count = this.sql(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM thread_metadata WHERE key = ? AND value = ? LIMIT ${RARE_ENOUGH})`);
    const counted = pairs.map((p) => ({ p, n: (count.get(p[0], p[1]) as { n: number }).n })).sort((a, b) => a.n - b.n);
    return { pairs: counted.map((c) => c.p), rare: counted[0]!.n < RARE_ENOUGH };
  }

  // ---------- turns

  private renderTurn(r: TurnRow): Turn {
    const turn: Turn = { id: r.id, thread_id: r.thread_id, input: r.input, status: r.status, output: r.output, created_at: r.created_at };
    if (r.error !== null) turn.error = r.error;
    if (r.usage !== null) turn.usage = JSON.parse(r.usage) as Usage;
    if (r.started_at !== null) turn.started_at = r.started_at;
    if (r.finished_at !== null) turn.finished_at = r.finished_at;
    return turn;
  }

  getTurn(id: string): Turn | undefined {
    const row = this.sql(`SELECT ${TURN_COLUMNS} FROM turns WHERE id = ?`).get(id) as TurnRow | undefined;
    return row && this.renderTurn(row);
  }

  findTurnByKey(threadId: string, key: string): Turn | undefined {
    const row = this.sql(`SELECT ${TURN_COLUMNS} FROM turns WHERE thread_id = ? AND idempotency_key = ?`).get(threadId, key) as TurnRow | undefined;
    return row && this.renderTurn(row);
  }

  /** The thread's newest turns, oldest first. */
  recentTurns(threadId: string, limit: number): Turn[] {
    const rows = this.sql(`SELECT ${TURN_COLUMNS} FROM turns WHERE thread_id = ? ORDER BY n DESC LIMIT ?`).all(threadId, limit) as TurnRow[];
    return rows.reverse().map((r) => this.renderTurn(r));
  }

  /** Finished turns of the thread created before `turnId`, newest first, for context. */
  *earlierTurns(threadId: string, turnId: string): Generator<Turn> {
    const rows = this.db
      .prepare(`SELECT ${TURN_COLUMNS} FROM turns WHERE thread_id = ? AND n < (SELECT n FROM turns WHERE id = ?) ORDER BY n DESC`)
      .iterate(threadId, turnId) as IterableIterator<TurnRow>;
    for (const r of rows) yield this.renderTurn(r);
  }

  insertTurn(t: { id: string; threadId: string; input: string; idempotencyKey: string | null }): Turn {
    return this.write(() => {
      const at = nowIso();
      this.sql("INSERT INTO turns (id, thread_id, input, status, idempotency_key, created_at) VALUES (?, ?, ?, 'queued', ?, ?)").run(t.id, t.threadId, t.input, t.idempotencyKey, at);
      // A thread's activity moves it on, not only its own edits (no thread.updated for that: turn events say it).
      this.sql('UPDATE threads SET updated_at = ? WHERE id = ?').run(at, t.threadId);
      this.appendEvent('turn.queued', t.threadId, t.id, { input: t.input });
      return this.getTurn(t.id)!;
    });
  }

  /** Turns in the given statuses, oldest first (start-up recovery and the queue). */
  turnsWithStatus(statuses: readonly TurnStatus[]): Turn[] {
    const rows = this.sql(`SELECT ${TURN_COLUMNS} FROM turns WHERE status IN (${statuses.map(() => '?').join(',')}) ORDER BY n`).all(...statuses) as TurnRow[];
    return rows.map((r) => this.renderTurn(r));
  }

  countTurnsByStatus(): Record<string, number> {
    const rows = this.sql('SELECT status, COUNT(*) AS n FROM turns GROUP BY status').all() as Array<{ status: string; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  markTurnStarted(id: string): void {
    this.sql("UPDATE turns SET status = 'running', started_at = COALESCE(started_at, ?) WHERE id = ?").run(nowIso(), id);
  }

  setTurnStatus(id: string, status: TurnStatus): void {
    this.sql('UPDATE turns SET status = ? WHERE id = ?').run(status, id);
  }

  /** Records the outcome; finished statuses also clear any saved loop state. */
  finishTurn(id: string, status: TurnStatus, fields: { output?: string; error?: string; usage?: Usage }): void {
    const at = nowIso();
    this.db
      .prepare('UPDATE turns SET status = ?, output = COALESCE(?, output), error = ?, usage = COALESCE(?, usage), finished_at = ?, suspended_state = NULL WHERE id = ?')
      .run(status, fields.output ?? null, fields.error ?? null, fields.usage ? JSON.stringify(fields.usage) : null, at, id);
    this.sql('UPDATE threads SET updated_at = ? WHERE id = (SELECT thread_id FROM turns WHERE id = ?)').run(at, id);
  }

  saveSuspendedState(id: string, state: unknown, output: string, usage: Usage | undefined): void {
    this.sql("UPDATE turns SET status = 'awaiting_approval', suspended_state = ?, output = ?, usage = ? WHERE id = ?").run(JSON.stringify(state), output, usage ? JSON.stringify(usage) : null, id);
  }

  loadSuspendedState(id: string): unknown {
    const row = this.sql('SELECT suspended_state FROM turns WHERE id = ?').get(id) as { suspended_state: string | null } | undefined;
    return row?.suspended_state ? (JSON.parse(row.suspended_state) as unknown) : undefined;
  }

  // ---------- approvals

  private renderApproval(r: ApprovalRow): Approval {
    const a: Approval = { id: r.id, thread_id: r.thread_id, turn_id: r.turn_id, tool: r.tool, summary: r.summary, status: r.status, created_at: r.created_at };
    if (r.decided_at !== null) a.decided_at = r.decided_at;
    return a;
  }

  insertApproval(a: { id: string; threadId: string; turnId: string; tool: string; summary: string }): void {
    this.sql("INSERT INTO approvals (id, thread_id, turn_id, tool, summary, status, created_at) VALUES (?, ?, ?, ?, ?, 'pending', ?)").run(a.id, a.threadId, a.turnId, a.tool, a.summary, nowIso());
  }

  getApproval(id: string): Approval | undefined {
    const row = this.sql('SELECT * FROM approvals WHERE id = ?').get(id) as ApprovalRow | undefined;
    return row && this.renderApproval(row);
  }

  pendingApprovalOf(turnId: string): Approval | undefined {
    const row = this.sql("SELECT * FROM approvals WHERE turn_id = ? AND status = 'pending' ORDER BY created_at DESC LIMIT 1").get(turnId) as ApprovalRow | undefined;
    return row && this.renderApproval(row);
  }

  listApprovals(filter: { threadId?: string; status?: ApprovalStatus; limit: number }): Approval[] {
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.threadId !== undefined) {
      where.push('thread_id = ?');
      values.push(filter.threadId);
    }
    if (filter.status !== undefined) {
      where.push('status = ?');
      values.push(filter.status);
    }
    const sql = `SELECT * FROM approvals ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY created_at DESC LIMIT ?`;
    return (this.sql(sql).all(...values, filter.limit) as ApprovalRow[]).map((r) => this.renderApproval(r));
  }

  decideApproval(id: string, status: ApprovalStatus): void {
    this.sql('UPDATE approvals SET status = ?, decided_at = ? WHERE id = ?').run(status, nowIso(), id);
  }

  close(): void {
    if (this.closed) return;
    if (this.deltaTimer) clearTimeout(this.deltaTimer);
    this.deltaTimer = undefined;
    this.flushDeltas();
    this.closed = true;
    this.statements.clear();
    this.db.close();
  }
}
