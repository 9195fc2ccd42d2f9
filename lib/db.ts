// Opens a SQLite database in WAL mode and brings its schema up to date with versioned migrations.
import Database from 'better-sqlite3';
import { StateError } from './errors.js';

export type Db = Database.Database;

export interface Migration {
  version: number;
  /** SQL run inside the migration's transaction. */
  sql: string;
}

/**
 * Opens (creating if needed) the database at `file`. Migrations run in order inside one
 * transaction each; a database whose schema is newer than the code knows is refused.
 */
export function openDatabase(file: string, migrations: readonly Migration[], name = file): Db {
  let db: Db;
  try {
    db = new Database(file);
  } catch (err) {
    throw new StateError('state_unavailable', `cannot open the ${name} database at ${file} (${(err as Error).message})`, 'check that TETHER_STATE_DIR exists and is writable by this user');
  }
  db.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before we acknowledge it, even across a power cut.
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  migrate(db, migrations, name);
  return db;
}

function migrate(db: Db, migrations: readonly Migration[], name: string): void {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const latest = sorted.at(-1)?.version ?? 0;
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > latest) {
    db.close();
    throw new StateError('schema_too_new', `the ${name} database has schema version ${current}, newer than this Tether knows (${latest})`, 'upgrade Tether, or restore the state directory from a backup made by this version');
  }
  for (const m of sorted) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
}

/** True when a SQLite error means the disk or directory cannot take writes. */
export function isStorageFull(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'SQLITE_FULL' || code === 'SQLITE_READONLY' || code === 'SQLITE_IOERR' || (typeof code === 'string' && (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN')));
}
