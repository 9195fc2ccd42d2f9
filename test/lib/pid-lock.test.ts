// The pid lock: held only by a live, non-zombie process with the recorded start time; reused pids and zombies are taken over.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquirePidLock, judgeLockOwner, ownerFile } from '../../lib/pid-lock.js';
import { processStartTime, readProcStat } from '../../lib/proc.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function lockPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tether-pidlock-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'thing.lock');
}

const held = (pid: number) => new Error(`held by ${pid}`);

function child(args: string[]): ChildProcess {
  const c = spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] });
  cleanups.push(() => void c.kill('SIGKILL'));
  return c;
}

async function firstLine(c: ChildProcess): Promise<string> {
  let text = '';
  for await (const chunk of c.stdout!) {
    text += String(chunk);
    if (text.includes('\n')) return text.split('\n')[0]!;
  }
  return text;
}

/** Writes a lock as another process would have: its pid in the lock file, pid and start time beside it. */
function forgeLock(file: string, pid: number, startTime: number | undefined): void {
  writeFileSync(file, `${pid}\n`);
  if (startTime !== undefined) writeFileSync(ownerFile(file), `${pid} ${startTime}\n`);
}

describe('judgeLockOwner', () => {
  const self = { pid: 100, holdsIt: false };
  it.each([
    ['a live process with the recorded start time', { pid: 7, startTime: 555 }, { state: 'S', pgrp: 7, startTime: 555 }, 'held'],
    ['a live process whose start time differs: the pid was reused', { pid: 7, startTime: 555 }, { state: 'S', pgrp: 7, startTime: 999 }, 'stale'],
    ['a zombie with the recorded start time', { pid: 7, startTime: 555 }, { state: 'Z', pgrp: 7, startTime: 555 }, 'stale'],
    ['no such process', { pid: 7, startTime: 555 }, undefined, 'stale'],
    ['a live process and no recorded start time (an older lock)', { pid: 7, startTime: undefined }, { state: 'R', pgrp: 7, startTime: 1 }, 'held'],
    ['this pid, but not taken by this process: an earlier process had the pid', { pid: 100, startTime: 555 }, { state: 'R', pgrp: 100, startTime: 555 }, 'stale'],
  ] as const)('%s', (_what, recorded, stat, verdict) => {
    expect(judgeLockOwner(recorded, self, () => stat)).toBe(verdict);
  });

  it('this process holding it already is held', () => {
    expect(judgeLockOwner({ pid: 100, startTime: 1 }, { pid: 100, holdsIt: true }, () => undefined)).toBe('held');
  });
});

describe('acquirePidLock', () => {
  it('takes over a lock whose pid is alive but started at another time (pid reuse, pid 1 in a container)', () => {
    const file = lockPath();
    const parent = process.ppid;
    forgeLock(file, parent, processStartTime(parent)! + 1);
    const lock = acquirePidLock(file, held);
    expect(readFileSync(file, 'utf8').trim()).toBe(String(process.pid));
    expect(readFileSync(ownerFile(file), 'utf8').trim()).toBe(`${process.pid} ${processStartTime(process.pid)}`);
    lock.release();
    expect(existsSync(file)).toBe(false);
    expect(existsSync(ownerFile(file))).toBe(false);
  });

  it('takes over a lock that names this pid when this process never took it (a previous incarnation with the same pid)', () => {
    const file = lockPath();
    forgeLock(file, process.pid, undefined);
    const lock = acquirePidLock(file, held);
    expect(() => acquirePidLock(file, held)).toThrow(`held by ${process.pid}`);
    lock.release();
  });

  it('refuses a lock held by a live process with its real start time', async () => {
    const file = lockPath();
    const owner = child([process.execPath, '-e', 'console.log(process.pid); setInterval(() => {}, 1000)']);
    const pid = Number(await firstLine(owner));
    forgeLock(file, pid, processStartTime(pid));
    expect(() => acquirePidLock(file, held)).toThrow(`held by ${pid}`);
  });

  it('takes over a lock held by a zombie', async () => {
    const file = lockPath();
    // `sleep 0` exits at once; its parent becomes `sleep 30` by exec, which never collects it.
    const shell = child(['/bin/sh', '-c', 'sleep 0 & echo $!; exec sleep 30']);
    const zombie = Number(await firstLine(shell));
    for (let i = 0; i < 200 && readProcStat(zombie)?.state !== 'Z'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(readProcStat(zombie)?.state).toBe('Z');
    forgeLock(file, zombie, processStartTime(zombie));
    acquirePidLock(file, held).release();
  });
});
