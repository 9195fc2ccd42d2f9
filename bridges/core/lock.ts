// One bridge process per bot (two bridges polling one bot would answer every message twice), and one bot per store.
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

/** The state dir's bridge store was made by another bot of the platform. */
export class StoreOwnedError extends TetherError {
  constructor(platform: PlatformName, owner: string, identity: string, file: string) {
    super(
      'bridge_store_owned',
      `${file} belongs to ${platform} bot ${owner}, not to this one (${identity})`,
      `give each bot its own TETHER_STATE_DIR; or, to start this bot afresh (it loses the old bot's pairings and conversations), move ${file} away`,
    );
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

/** What claimStore needs of the store: its key-value rows. */
interface KeyValues {
  getKv(key: string): string | undefined;
  setKv(key: string, value: string): void;
}

/**
 * Marks the store as this bot's on first use and refuses another bot's. Two bots on one store
 * would share one event cursor (one bot's restart would skip replies the other had relayed past)
 * and one conversation per chat id (a private chat has the user's id with every bot).
 */
export function claimStore(store: KeyValues, platform: PlatformName, identity: string, file: string): void {
  const owner = store.getKv('bot_identity');
  if (owner === undefined) store.setKv('bot_identity', identity);
  else if (owner !== identity) throw new StoreOwnedError(platform, owner, identity, file);
}
