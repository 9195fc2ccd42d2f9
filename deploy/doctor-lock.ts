// Which other bridge process holds a bot's single-instance lock, for `tether doctor`: the same answer for every row of the bridges table.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BridgeSlug } from '../lib/bridges.js';
import { isZombie, readProcStat } from '../lib/proc.js';
import { lockFile } from '../bridges/core/lock.js';

function pidAlive(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat !== undefined && !isZombie(stat);
}

/** The bridge's health file (`<slug>.health.json`), or undefined when it is missing or unreadable. */
export function readBridgeHealth(stateDir: string, slug: BridgeSlug): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(join(stateDir, `${slug}.health.json`), 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * The pid of a live process holding `<slug>-<identity>.lock` that is not the bridge the health file
 * describes: a second `tether <slug>` started by hand next to the unit's. Undefined when there is none.
 */
export function otherLockHolder(stateDir: string, slug: BridgeSlug, identity: string): number | undefined {
  let lockPid: number;
  try {
    lockPid = Number(readFileSync(lockFile(stateDir, slug, identity), 'utf8').trim());
  } catch {
    return undefined;
  }
  const healthPid = readBridgeHealth(stateDir, slug)?.pid;
  return lockPid && pidAlive(lockPid) && healthPid !== undefined && healthPid !== lockPid ? lockPid : undefined;
}
