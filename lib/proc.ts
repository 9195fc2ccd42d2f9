// What /proc says about a process: its state, group and start time, so a recorded pid can be told from a reused one.
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** Field 3: R, S, D, Z (zombie), X (dead), … */
  state: string;
  /** Field 5: the process group. */
  pgrp: number;
  /** Field 22: clock ticks after boot when it started; a pid reused later has another one. */
  startTime: number;
}

/** Parses the text of /proc/<pid>/stat; undefined when it is not one. */
export function parseProcStat(text: string): ProcStat | undefined {
  // The command name (field 2) is in parentheses and may hold spaces or ")": fields resume after the last ")".
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state), so field n is fields[n - 3].
  const state = fields[0];
  const pgrp = Number(fields[2]);
  const startTime = Number(fields[19]);
  if (!state || !Number.isSafeInteger(pgrp) || !Number.isSafeInteger(startTime)) return undefined;
  return { state, pgrp, startTime };
}

/** Fields of /proc/<pid>/stat; undefined when there is no such process (or no /proc: not Linux). */
export function readProcStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** When a process started, in clock ticks after boot; undefined if it does not exist. */
export function processStartTime(pid: number): number | undefined {
  return readProcStat(pid)?.startTime;
}

/** A zombie has exited and only waits for its parent to collect it: it holds nothing any more. */
export function isZombie(stat: ProcStat): boolean {
  return stat.state === 'Z' || stat.state === 'X';
}

let procReadable: boolean | undefined;
/** Whether this system has /proc/<pid>/stat (Linux); elsewhere callers fall back to kill(pid, 0). */
export function hasProcStat(): boolean {
  procReadable ??= readProcStat(process.pid) !== undefined;
  return procReadable;
}
