import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../lib/db.js';
import { StateError } from '../../lib/errors.js';

describe('database migrations', () => {
  const v1 = { version: 1, sql: 'CREATE TABLE a (x INTEGER)' };
  const v2 = { version: 2, sql: 'ALTER TABLE a ADD COLUMN y TEXT' };

  it('applies migrations once, in order, and keeps data across opens', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tether-db-')), 'x.db');
    const db = openDatabase(file, [v1]);
    db.prepare('INSERT INTO a (x) VALUES (1)').run();
    db.close();
    const again = openDatabase(file, [v2, v1]);
    expect(again.pragma('user_version', { simple: true })).toBe(2);
    expect(again.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(again.prepare('SELECT x, y FROM a').all()).toEqual([{ x: 1, y: null }]);
    again.close();
  });

  it('refuses a schema newer than the code knows, saying what to do', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tether-db-')), 'x.db');
    openDatabase(file, [v1, v2]).close();
    expect(() => openDatabase(file, [v1], 'runtime')).toThrow(StateError);
    expect(() => openDatabase(file, [v1], 'runtime')).toThrow(/runtime database has schema version 2, newer than this Tether knows \(1\): upgrade Tether/);
  });

  it('rolls a failed migration back whole', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tether-db-')), 'x.db');
    openDatabase(file, [v1]).close();
    const broken = { version: 2, sql: 'CREATE TABLE b (x INTEGER); THIS IS NOT SQL' };
    expect(() => openDatabase(file, [v1, broken])).toThrow();
    const db = openDatabase(file, [v1]);
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'b'").all()).toEqual([]);
    db.close();
  });
});
