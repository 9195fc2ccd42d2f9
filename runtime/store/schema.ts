// The runtime database's versioned migrations: add a new entry, never edit a shipped one.
import type { Migration } from '../../lib/db.js';

export const RUNTIME_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE threads (
        n INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL DEFAULT '',
        model TEXT,
        approval TEXT,
        metadata TEXT NOT NULL DEFAULT '{}',
        archived INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        last_seq INTEGER NOT NULL DEFAULT 0
      );
      -- Bridges find their conversation's thread by metadata on every message: one indexed row per pair.
      CREATE TABLE thread_metadata (
        thread_id TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (thread_id, key)
      );
      CREATE INDEX thread_metadata_lookup ON thread_metadata(key, value);

      CREATE TABLE turns (
        n INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        thread_id TEXT NOT NULL REFERENCES threads(id),
        input TEXT NOT NULL,
        status TEXT NOT NULL,
        output TEXT NOT NULL DEFAULT '',
        error TEXT,
        usage TEXT,
        idempotency_key TEXT,
        -- The agent loop's saved position while it waits for a person, so it resumes after a restart.
        suspended_state TEXT,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT
      );
      CREATE INDEX turns_by_thread ON turns(thread_id, n);
      CREATE INDEX turns_by_status ON turns(status, n);
      CREATE INDEX turns_by_thread_status ON turns(thread_id, status);
      CREATE UNIQUE INDEX turns_idempotency ON turns(thread_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

      -- AUTOINCREMENT: a seq is never handed out twice, even after the newest rows vanish in a crash.
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        type TEXT NOT NULL,
        thread_id TEXT,
        turn_id TEXT,
        at TEXT NOT NULL,
        payload TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX events_by_thread ON events(thread_id, seq);

      CREATE TABLE approvals (
        id TEXT PRIMARY KEY,
        thread_id TEXT NOT NULL REFERENCES threads(id),
        turn_id TEXT NOT NULL REFERENCES turns(id),
        tool TEXT NOT NULL,
        summary TEXT NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        decided_at TEXT
      );
      CREATE INDEX approvals_by_turn ON approvals(turn_id);
      CREATE INDEX approvals_by_thread ON approvals(thread_id, status);
    `,
  },
];
