// One process per resource: an exclusive lock file holding the owner's pid (and, beside it, its start time); a dead owner's lock is taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { StateError } from './errors.js';
import { hasProcStat, isZombie, processStartTime, readProcStat, type ProcStat } from './proc.js';

export interface PidLock {
  readonly file: string;
  /** Removes the file if this process still owns it. Safe to call twice; also runs at process exit. */
  release(): void;
}

/**
 * Beside the lock: `<pid> <start time>` of its owner. The lock file itself holds only the pid, as
 * it always did (people and older tools read it); the start time tells a live owner from a process
 * that merely got the same pid later (after a reboot, or pid 1 in every container start).
 */
export function ownerFile(lockFile: string): string {
  return `${lockFile}.owner`;
}

export interface RecordedOwner {
  pid: number;
  /** Undefined for a lock written without one (an older Tether, or no /proc). */
  startTime: number | undefined;
}

/**
 * Pure: whether the process recorded in a lock still holds it. This pid holds it only if this
 * process took it (not an earlier process that had the same pid); another pid holds it while a
 * process with that pid runs, is not a zombie, and started when the lock says.
 */
export function judgeLockOwner(recorded: RecordedOwner, self: { pid: number; holdsIt: boolean }, statOf: (pid: number) => ProcStat | undefined): 'held' | 'stale' {
  if (recorded.pid === self.pid) return self.holdsIt ? 'held' : 'stale';
  const stat = statOf(recorded.pid);
  if (!stat || isZombie(stat)) return 'stale';
  if (recorded.startTime !== undefined && stat.startTime !== recorded.startTime) return 'stale';
  return 'held';
}

/** Lock files this process holds (resolved paths): a second acquire in the same process is refused. */
const heldHere = new Set<string>();

function aliveByKill(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readRecordedOwner(file: string): RecordedOwner | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
  } catch {
    return undefined; // removed between our open and read
  }
  let startTime: number | undefined;
  try {
    const [ownerPid, start] = readFileSync(ownerFile(file), 'utf8').trim().split(' ').map(Number);
    // An owner file of another pid is left from an earlier owner: it says nothing about this one.
    if (ownerPid === pid && Number.isSafeInteger(start)) startTime = start;
  } catch {
    // none: an older lock, or its owner died between writing the two files
  }
  return { pid, startTime };
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone (someone else recovered it first)
  }
}

/**
 * Takes `file` for this process. `held(pid)` builds the error for a lock that a live process
 * (possibly this one, a second time) holds; a lock whose process is dead, a zombie, or another
 * process that got the same pid later, is recovered.
 */
export function acquirePidLock(file: string, held: (pid: number) => Error): PidLock {
  const key = resolve(file);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (heldHere.has(key)) throw held(process.pid);
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StateError('state_unwritable', `cannot write ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'make TETHER_STATE_DIR writable by this user');
      }
      const recorded = readRecordedOwner(file);
      if (!recorded) continue;
      if (Number.isInteger(recorded.pid) && recorded.pid > 0) {
        const verdict = hasProcStat()
          ? judgeLockOwner(recorded, { pid: process.pid, holdsIt: false }, readProcStat)
          : recorded.pid !== process.pid && aliveByKill(recorded.pid)
            ? 'held'
            : 'stale';
        if (verdict === 'held') throw held(recorded.pid);
      }
      // Owner file first, so a lock is never left with another owner's start time beside it.
      removeQuietly(ownerFile(file));
      removeQuietly(file);
      continue;
    }
    heldHere.add(key);
    const startTime = processStartTime(process.pid);
    try {
      if (startTime !== undefined) writeFileSync(ownerFile(file), `${process.pid} ${startTime}\n`, { mode: 0o600 });
    } catch {
      // Without it the lock still works; only a reused pid could not be told from its owner.
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.off('exit', release);
      heldHere.delete(key);
      try {
        if (readFileSync(file, 'utf8').trim() === String(process.pid)) {
          removeQuietly(ownerFile(file));
          unlinkSync(file);
        }
      } catch {
        // already gone
      }
    };
    process.on('exit', release);
    return { file, release };
  }
  throw held(Number.NaN);
}
