// The single-instance lock: exclusive, names the live holder, recovers a dead one's file, released on stop.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireBridgeLock, lockFile } from '../../../bridges/core/lock.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'tether-lock-'));
  dirs.push(d);
  return d;
};

describe('bridge lock', () => {
  it('holds the pid, refuses a second holder, and is gone after release', () => {
    const d = dir();
    const lock = acquireBridgeLock(d, 'telegram', '123');
    expect(readFileSync(lock.file, 'utf8').trim()).toBe(String(process.pid));
    expect(() => acquireBridgeLock(d, 'telegram', '123')).toThrow(`another tether telegram (pid ${process.pid}) is running for this bot`);
    // Another bot of the same platform has its own lock.
    acquireBridgeLock(d, 'telegram', '456').release();
    lock.release();
    expect(existsSync(lock.file)).toBe(false);
  });

  it('recovers the lock of a process that died without releasing it', () => {
    const d = dir();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(lockFile(d, 'telegram', '123'), `${dead}\n`);
    const lock = acquireBridgeLock(d, 'telegram', '123');
    expect(readFileSync(lock.file, 'utf8').trim()).toBe(String(process.pid));
    lock.release();
  });
});
