// Records of the shell's process groups in the state dir, so the groups of a runtime killed with SIGKILL are killed at the next start.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../lib/log.js';
import { isZombie, processStartTime, readProcStat } from '../../lib/proc.js';
import { oneLine } from './measure.js';

/** Under the state dir: one `<pgid>.json` per process group a shell call has running. */
export const TOOL_PROCESSES_DIR = 'tool-processes';

export interface ToolProcessRecord {
  /** The process group, which is also the pid of the /bin/sh leading it (spawned detached). */
  pgid: number;
  /** Field 22 of /proc/<pgid>/stat (clock ticks after boot): a pid reused later has another one. */
  startTime: number;
  /** The runtime process that started the group: while it lives, the group is not an orphan. */
  owner: { pid: number; startTime: number };
  /** Shortened, for the log line of the reaper. */
  command: string;
  startedAt: string;
}

/** What the reaper makes of a record; only `orphaned` groups are killed. */
export type RecordVerdict = 'orphaned' | 'owned' | 'ended' | 'reused';

const RECORD_NAME = /^(\d+)\.json$/;
const TEMP_NAME = /^\.\d+\.json\.[0-9a-f]+\.tmp$/;
const RECORDED_COMMAND_CHARS = 200;
const POLL_MS = 25;

let ownStartTime: number | undefined;
function ownIdentity(): { pid: number; startTime: number } | undefined {
  ownStartTime ??= processStartTime(process.pid);
  return ownStartTime === undefined ? undefined : { pid: process.pid, startTime: ownStartTime };
}

/**
 * Pure: whether a record names a group this runtime may kill. The owner alive means a runtime is
 * still running it (never ours to kill); the leader gone means the group ended (or at least its
 * leader, and then its pid can no longer prove which processes are ours); another start time
 * means the pid now belongs to an unrelated process.
 */
export function judgeRecord(record: ToolProcessRecord, startTimeOf: (pid: number) => number | undefined): RecordVerdict {
  if (startTimeOf(record.owner.pid) === record.owner.startTime) return 'owned';
  const leader = startTimeOf(record.pgid);
  if (leader === undefined) return 'ended';
  return leader === record.startTime ? 'orphaned' : 'reused';
}

function parseRecord(text: string, pgidFromName: number): ToolProcessRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = value as Partial<ToolProcessRecord> | null;
  const isId = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
  if (!r || r.pgid !== pgidFromName || !isId(r.pgid) || !isId(r.startTime) || !r.owner || !isId(r.owner.pid) || !isId(r.owner.startTime)) return undefined;
  return { pgid: r.pgid, startTime: r.startTime, owner: { pid: r.owner.pid, startTime: r.owner.startTime }, command: typeof r.command === 'string' ? r.command : '?', startedAt: typeof r.startedAt === 'string' ? r.startedAt : '?' };
}

/**
 * Writes `<stateDir>/tool-processes/<pgid>.json` for a group just spawned (its leader exists at
 * least as a zombie until Node reaps it, which cannot happen before this synchronous call ends).
 * Returns undefined without writing when start times cannot be read (no /proc: not Linux).
 * Written to a temporary file and renamed, so a runtime killed mid-write leaves no half record;
 * not fsynced, because only the runtime's death must be survived: after a crash of the machine
 * there are no processes left to kill.
 */
export function recordToolProcess(stateDir: string, pgid: number, command: string): ToolProcessRecord | undefined {
  const startTime = processStartTime(pgid);
  const owner = ownIdentity();
  if (startTime === undefined || owner === undefined) return undefined;
  const record: ToolProcessRecord = { pgid, startTime, owner, command: oneLine(command, RECORDED_COMMAND_CHARS), startedAt: new Date().toISOString() };
  const dir = join(stateDir, TOOL_PROCESSES_DIR);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${pgid}.json.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(temp, JSON.stringify(record) + '\n', { mode: 0o600, flag: 'wx' });
    renameSync(temp, join(dir, `${pgid}.json`));
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
  return record;
}

/** Removes the record of a group that has ended; a missing record is fine. */
export function forgetToolProcess(stateDir: string, pgid: number): void {
  rmSync(join(stateDir, TOOL_PROCESSES_DIR, `${pgid}.json`), { force: true });
}

/** The groups among `pgids` that still have a process that is not a zombie (one scan of /proc for all). */
function groupsWithLiveMembers(pgids: ReadonlySet<number>): Set<number> {
  const alive = new Set<number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return alive;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProcStat(Number(name));
    if (stat && pgids.has(stat.pgrp) && !isZombie(stat)) alive.add(stat.pgrp);
  }
  return alive;
}

/** Sends a signal to a whole group: true if it was delivered, false if the group is gone; throws on EPERM. */
function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

export interface ReapOptions {
  /** Between SIGTERM and SIGKILL, as for a cancelled shell call. */
  graceMs?: number;
}

/**
 * At start, before turns run: kills every process group a previous runtime's shell calls left
 * running because that runtime died without cleaning up (kill -9, OOM killer, power cut of the
 * process). A group is killed only when its leader still has the recorded start time and the
 * runtime that started it is gone; SIGTERM first, SIGKILL after the grace. Records of groups
 * that ended, of pids now used by another process, and unreadable ones are removed. Returns how
 * many groups it killed.
 */
export async function reapOrphanedToolProcesses(stateDir: string, logger: Logger, options: ReapOptions = {}): Promise<number> {
  const graceMs = options.graceMs ?? 2000;
  const dir = join(stateDir, TOOL_PROCESSES_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn('cannot read the tool process records; orphaned shell commands of an earlier run are not killed', { dir, err });
    return 0;
  }

  const remove = (file: string) => rm(file, { force: true }).catch((err: unknown) => logger.warn('cannot remove a tool process record', { file, err }));
  const doomed = new Map<number, ToolProcessRecord>();
  for (const name of names) {
    const file = join(dir, name);
    if (TEMP_NAME.test(name)) {
      await remove(file);
      continue;
    }
    const match = RECORD_NAME.exec(name);
    if (!match) continue;
    const record = parseRecord(await readFile(file, 'utf8').catch(() => ''), Number(match[1]));
    if (!record) {
      logger.warn('removed an unreadable tool process record', { file });
      await remove(file);
      continue;
    }
    const verdict = judgeRecord(record, processStartTime);
    if (verdict === 'owned') {
      logger.debug('tool process group belongs to a runtime that is still running; left alone', { pgid: record.pgid, owner_pid: record.owner.pid });
      continue;
    }
    if (verdict === 'orphaned') {
      try {
        if (signalGroup(record.pgid, 'SIGTERM')) {
          doomed.set(record.pgid, record);
          continue;
        }
      } catch (err) {
        logger.warn('cannot kill an orphaned tool process group', { pgid: record.pgid, command: record.command, err });
      }
    } else if (verdict === 'reused') {
      logger.info('tool process record names a pid now used by another process; left that process alone', { pgid: record.pgid });
    }
    await remove(file);
  }
  if (doomed.size === 0) return 0;

  const deadline = Date.now() + graceMs;
  let alive = groupsWithLiveMembers(new Set(doomed.keys()));
  while (alive.size > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    alive = groupsWithLiveMembers(alive);
  }
  for (const record of doomed.values()) {
    const stubborn = alive.has(record.pgid);
    if (stubborn) {
      try {
        signalGroup(record.pgid, 'SIGKILL');
      } catch {
        // EPERM after a successful SIGTERM: a member changed its user; nothing more can be done
      }
    }
    logger.info('killed an orphaned tool process group of an earlier run', { pgid: record.pgid, command: record.command, started_at: record.startedAt, owner_pid: record.owner.pid, signal: stubborn ? 'SIGKILL' : 'SIGTERM' });
    await remove(join(dir, `${record.pgid}.json`));
  }
  logger.info('reaped orphaned tool processes', { groups: doomed.size });
  return doomed.size;
}
