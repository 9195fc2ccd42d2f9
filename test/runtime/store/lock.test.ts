// One runtime per state dir: a live owner refuses a second one; a dead owner's lock is taken over.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireRuntimeLock, LOCK_FILE } from '../../../runtime/store/lock.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tether-lock-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('runtime lock', () => {
  it('refuses a state dir whose lock belongs to a live process', () => {
    writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
    expect(() => acquireRuntimeLock(dir)).toThrow(new RegExp(`another tether runtime \\(pid ${process.ppid}\\)`));
  });

  it('takes over the lock of a process that is gone, and releases it on stop', () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(join(dir, LOCK_FILE), `${dead}\n`);
    const lock = acquireRuntimeLock(dir);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
});
