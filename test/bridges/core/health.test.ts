// The health file: replaced atomically, and still updated in place when no new file can be made (a full disk).
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthReporter } from '../../../bridges/core/health.js';
import { createLogger } from '../../../lib/log.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('the health file', () => {
  it('says the bridge is not accepting even when its temporary file cannot be made', () => {
    dir = mkdtempSync(join(tmpdir(), 'tether-health-'));
    const file = join(dir, 'telegram.health.json');
    const logs: string[] = [];
    const health = new HealthReporter(file, 'telegram', createLogger('test', { level: 'debug', write: (l) => logs.push(l) }));
    health.update({ state: 'running' });
    expect(JSON.parse(readFileSync(file, 'utf8')).state).toBe('running');
    // What a full disk does to the new file: it cannot be written (here: a directory is in its way).
    mkdirSync(`${file}.tmp`);
    health.update({ state: 'not_accepting', storage: 'cannot write telegram.db: the disk of the state dir is full (SQLITE_FULL)' });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ state: 'not_accepting', storage: expect.stringContaining('SQLITE_FULL') });
    health.update({ state: 'running', storage: undefined });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ state: 'running' });
    expect(JSON.parse(readFileSync(file, 'utf8')).storage).toBeUndefined();
    expect(logs.some((l) => l.includes('cannot write the health file'))).toBe(false);
  });
});
