// One runtime per state dir: an exclusive lock file holding the owner's pid; a dead owner's lock is taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StateError } from '../../lib/errors.js';

export const LOCK_FILE = 'runtime.lock';

export interface RuntimeLock {
  release(): void;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Two runtimes on one state dir would both run the queued turns; the second is refused. */
export function acquireRuntimeLock(stateDir: string): RuntimeLock {
  const file = join(stateDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        release: () => {
          try {
            if (Number(readFileSync(file, 'utf8').trim()) === process.pid) unlinkSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StateError('state_unwritable', `cannot write ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'make TETHER_STATE_DIR writable by this user');
      }
      let owner = NaN;
      try {
        owner = Number(readFileSync(file, 'utf8').trim());
      } catch {
        // vanished meanwhile: try again
      }
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && pidAlive(owner)) {
        throw new StateError('runtime_locked', `another tether runtime (pid ${owner}) is using ${stateDir}`, `stop it first, or give this one its own TETHER_STATE_DIR; the lock is ${file}`);
      }
      // Left by a runtime that was killed (or by this process): take it over.
      try {
        unlinkSync(file);
      } catch {
        // someone else removed it
      }
    }
  }
  throw new StateError('runtime_locked', `cannot take the lock ${file}`, 'another runtime is starting on the same TETHER_STATE_DIR; start only one');
}
