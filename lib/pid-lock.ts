// One process per resource: an exclusive lock file holding the owner's pid; a dead owner's lock is taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { StateError } from './errors.js';

export interface PidLock {
  readonly file: string;
  /** Removes the file if this process still owns it. Safe to call twice; also runs at process exit. */
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

/**
 * Takes `file` for this process. `held(pid)` builds the error for a lock that a live process
 * (possibly this one, a second time) holds; a lock whose process is dead is recovered.
 */
export function acquirePidLock(file: string, held: (pid: number) => Error): PidLock {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.off('exit', release);
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) unlinkSync(file);
        } catch {
          // already gone
        }
      };
      process.on('exit', release);
      return { file, release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StateError('state_unwritable', `cannot write ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'make TETHER_STATE_DIR writable by this user');
      }
      let pid = NaN;
      try {
        pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
      } catch {
        continue; // removed between our open and read: try again
      }
      if (Number.isInteger(pid) && pid > 0 && (pid === process.pid || pidAlive(pid))) throw held(pid);
      try {
        unlinkSync(file); // stale: its process is dead
      } catch {
        // someone else recovered it first
      }
    }
  }
  throw held(Number.NaN);
}
