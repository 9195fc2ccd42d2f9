// One bridge process per bot: two bridges polling one bot would answer every message twice.
import { join } from 'node:path';
import { TetherError } from '../../lib/errors.js';
import { acquirePidLock, type PidLock } from '../../lib/pid-lock.js';
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

export type BridgeLock = PidLock;

export function lockFile(stateDir: string, platform: PlatformName, identity: string): string {
  return join(stateDir, `${platform}-${identity.replace(/[^A-Za-z0-9_.-]/g, '_')}.lock`);
}

export function acquireBridgeLock(stateDir: string, platform: PlatformName, identity: string): BridgeLock {
  const file = lockFile(stateDir, platform, identity);
  return acquirePidLock(file, (pid) => new BridgeLockedError(platform, pid, file));
}
