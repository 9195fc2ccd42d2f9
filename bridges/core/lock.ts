// One bridge process per bot: an exclusive lock file with the owner's pid, stale ones recovered.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TetherError } from '../../lib/errors.js';
import type { PlatformName } from './adapter.js';

export class BridgeLockedError extends TetherError {
  constructor(
    readonly platform: PlatformName,
    readonly pid: number,
    file: string,
  ) {
    super('bridge_locked', `another tether ${platform} (pid ${pid}) is running for this bot`, `stop it first (two bridges on one bot would answer twice); the lock is ${file}`);
  }
}

export interface BridgeLock {
  readonly file: string;
  release(): void;
}

export function lockFile(stateDir: string, platform: PlatformName, identity: string): string {
  return join(stateDir, `${platform}-${identity.replace(/[^A-Za-z0-9_.-]/g, '_')}.lock`);
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

export function acquireBridgeLock(stateDir: string, platform: PlatformName, identity: string): BridgeLock {
  const file = lockFile(stateDir, platform, identity);
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
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let pid = NaN;
      try {
        pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
      } catch {
        continue; // removed between our open and read: try again
      }
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) throw new BridgeLockedError(platform, pid, file);
      if (pid === process.pid) throw new BridgeLockedError(platform, pid, file);
      try {
        unlinkSync(file); // stale: its process is dead
      } catch {
        // someone else recovered it first
      }
    }
  }
  throw new BridgeLockedError(platform, Number.NaN, file);
}
