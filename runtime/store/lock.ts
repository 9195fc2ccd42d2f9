// One runtime per state dir: two runtimes on one state dir would both run the queued turns.
import { join } from 'node:path';
import { StateError } from '../../lib/errors.js';
import { acquirePidLock, type PidLock } from '../../lib/pid-lock.js';

export const LOCK_FILE = 'runtime.lock';

export type RuntimeLock = PidLock;

export function acquireRuntimeLock(stateDir: string): RuntimeLock {
  const file = join(stateDir, LOCK_FILE);
  return acquirePidLock(file, (pid) =>
    Number.isNaN(pid)
      ? new StateError('runtime_locked', `cannot take the lock ${file}`, 'another runtime is starting on the same TETHER_STATE_DIR; start only one')
      : new StateError('runtime_locked', `another tether runtime (pid ${pid}) is using ${stateDir}`, `stop it first, or give this one its own TETHER_STATE_DIR; the lock is ${file}`),
  );
}
