// Orphaned shell process groups: recorded while they run, forgotten when they end, killed at the next start after a SIGKILL of the runtime.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../lib/log.js';
import { createShellTool, shellTool } from '../../../runtime/tools/shell.js';
import { processStartTime } from '../../../lib/proc.js';
import { TOOL_PROCESSES_DIR, judgeRecord, reapOrphanedToolProcesses, type ToolProcessRecord } from '../../../runtime/tools/tool-processes.js';
import { contextFor, makeWorkspace, processIsGone, waitUntil, type TempWorkspace } from './workspace.js';

const repoRoot = join(import.meta.dirname, '..', '..', '..');

let t: TempWorkspace;
let stateDir: string;
let recordsDir: string;
const strays: number[] = [];
const children: ChildProcess[] = [];
beforeEach(() => {
  t = makeWorkspace();
  stateDir = join(t.root, 'state');
  recordsDir = join(stateDir, TOOL_PROCESSES_DIR);
  mkdirSync(stateDir);
});
afterEach(() => {
  for (const pid of strays.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone, as it should be
    }
  }
  for (const child of children.splice(0)) child.kill('SIGKILL');
  t.remove();
});

function collectingLogger() {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: createLogger('test', { level: 'debug', write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) }) };
}

const records = () => (existsSync(recordsDir) ? readdirSync(recordsDir) : []);
const readRecord = (pgid: number) => JSON.parse(readFileSync(join(recordsDir, `${pgid}.json`), 'utf8')) as ToolProcessRecord;
const readPid = (file: string) => Number(readFileSync(join(t.workspace, file), 'utf8').trim());

/** A process group of our own (not started by the shell tool), as an unrelated program would be. */
function spawnGroup(script: string): number {
  const child = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore' });
  children.push(child);
  if (child.pid === undefined) throw new Error('spawn failed');
  strays.push(child.pid);
  return child.pid;
}

/** The identity of a runtime that is gone: a process that has exited. */
function deadOwner(): { pid: number; startTime: number } {
  const { pid } = spawnSync('/bin/true');
  if (pid === undefined) throw new Error('spawn failed');
  return { pid, startTime: 1 };
}

function forgeRecord(pgid: number, startTime: number): void {
  mkdirSync(recordsDir, { recursive: true });
  const record: ToolProcessRecord = { pgid, startTime, owner: deadOwner(), command: 'forged', startedAt: new Date().toISOString() };
  writeFileSync(join(recordsDir, `${pgid}.json`), JSON.stringify(record));
}

describe('judgeRecord', () => {
  const record: ToolProcessRecord = { pgid: 100, startTime: 5000, owner: { pid: 7, startTime: 42 }, command: 'sleep 30', startedAt: '' };
  it.each([
    ['orphaned', 'the leader has its start time and the owner is gone', { 100: 5000 }],
    ['orphaned', 'the owner pid now belongs to another process', { 100: 5000, 7: 43 }],
    ['owned', 'the runtime that started it still runs', { 100: 5000, 7: 42 }],
    ['ended', 'the leader is gone', {}],
    ['reused', 'the pid belongs to a process started at another time', { 100: 9999 }],
  ] as const)('%s when %s', (verdict, _why, startTimes: Record<number, number>) => {
    expect(judgeRecord(record, (pid) => startTimes[pid])).toBe(verdict);
  });
});

describe('shell process records', () => {
  it('records a running group with the leader pid and its /proc start time, and forgets it when it ends', async () => {
    const running = shellTool.run({ command: 'echo $$ > leader.pid; sleep 0.3' }, contextFor(t.workspace, { stateDir }));
    const [name] = records();
    expect(name).toMatch(/^\d+\.json$/);
    const record = readRecord(Number(name?.split('.')[0]));
    await waitUntil(() => existsSync(join(t.workspace, 'leader.pid')) && readFileSync(join(t.workspace, 'leader.pid'), 'utf8').endsWith('\n'), 'the shell wrote its pid');
    expect(record.pgid).toBe(readPid('leader.pid'));
    expect(record.startTime).toBe(processStartTime(record.pgid));
    expect(record.owner).toEqual({ pid: process.pid, startTime: processStartTime(process.pid) });
    expect(record.command).toBe('echo $$ > leader.pid; sleep 0.3');
    expect((await running).ok).toBe(true);
    expect(records()).toEqual([]);
  });

  it('forgets a group killed on timeout once it is gone', async () => {
    const outcome = await createShellTool({ killGraceMs: 100 }).run({ command: 'sleep 30 & echo $! > child.pid; wait', timeout_s: 0.2 }, contextFor(t.workspace, { stateDir }));
    expect(outcome.content).toMatch(/killed after 0\.2 s timeout$/);
    await waitUntil(() => processIsGone(readPid('child.pid')), 'the timed-out sleep is gone');
    await waitUntil(() => records().length === 0, 'the record is removed');
  });

  it('records nothing without a state dir', async () => {
    await shellTool.run({ command: 'true' }, contextFor(t.workspace));
    expect(existsSync(recordsDir)).toBe(false);
  });
});

describe('reapOrphanedToolProcesses', () => {
  it('kills the group a runtime killed with SIGKILL left running, grandchildren included', async () => {
    const fakeRuntime = spawn(process.execPath, ['--import', 'tsx', 'test/runtime/tools/fixtures/abandoned-shell.ts', t.workspace, stateDir, 'echo $$ > leader.pid; sleep 30 & echo $! > grandchild.pid; wait'], { cwd: repoRoot, stdio: 'ignore' });
    children.push(fakeRuntime);
    await waitUntil(() => existsSync(join(t.workspace, 'grandchild.pid')) && readFileSync(join(t.workspace, 'grandchild.pid'), 'utf8').endsWith('\n'), 'the command started its grandchild', 20_000);
    const leader = readPid('leader.pid');
    const grandchild = readPid('grandchild.pid');
    strays.push(leader);
    // The shell can write its pid files before the fake runtime's rename of the record lands; a SIGKILL in that window leaves no record to reap.
    await waitUntil(() => records().includes(`${leader}.json`), 'the fake runtime recorded the group');
    fakeRuntime.kill('SIGKILL');
    await once(fakeRuntime, 'exit');
    // Without the reaper this is where they would stay forever.
    expect(processIsGone(leader)).toBe(false);
    expect(processIsGone(grandchild)).toBe(false);
    expect(records()).toEqual([`${leader}.json`]);

    const { lines, logger } = collectingLogger();
    expect(await reapOrphanedToolProcesses(stateDir, logger)).toBe(1);
    await waitUntil(() => processIsGone(grandchild) && processIsGone(leader), 'the orphaned group is gone');
    expect(records()).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'killed an orphaned tool process group of an earlier run', pgid: leader, signal: 'SIGTERM', owner_pid: fakeRuntime.pid }));
  });

  it('leaves alone the groups of a runtime that is still running', async () => {
    const controller = new AbortController();
    const running = shellTool.run({ command: 'echo $$ > leader.pid; sleep 30' }, contextFor(t.workspace, { stateDir, signal: controller.signal }));
    await waitUntil(() => existsSync(join(t.workspace, 'leader.pid')) && readFileSync(join(t.workspace, 'leader.pid'), 'utf8').endsWith('\n'), 'the shell wrote its pid');
    const leader = readPid('leader.pid');
    expect(await reapOrphanedToolProcesses(stateDir, collectingLogger().logger)).toBe(0);
    expect(processIsGone(leader)).toBe(false);
    expect(records()).toEqual([`${leader}.json`]);
    controller.abort();
    expect((await running).content).toMatch(/killed: the turn was stopped$/);
  });

  it('does not kill a live process whose pid is in a record with another start time, and removes the record', async () => {
    const unrelated = spawnGroup('sleep 30');
    const startTime = processStartTime(unrelated);
    if (startTime === undefined) throw new Error('no start time');
    forgeRecord(unrelated, startTime + 1);
    const { lines, logger } = collectingLogger();
    expect(await reapOrphanedToolProcesses(stateDir, logger)).toBe(0);
    expect(processIsGone(unrelated)).toBe(false);
    expect(records()).toEqual([]);
    expect(lines).toContainEqual(expect.objectContaining({ msg: expect.stringContaining('pid now used by another process'), pgid: unrelated }));
  });

  it('sends SIGKILL after the grace to an orphaned group that ignores SIGTERM', async () => {
    const stubborn = spawnGroup(`trap '' TERM; sleep 30 & echo $! > ${join(t.workspace, 'child.pid')}; wait; wait`);
    await waitUntil(() => existsSync(join(t.workspace, 'child.pid')) && readFileSync(join(t.workspace, 'child.pid'), 'utf8').endsWith('\n'), 'the group started its sleep');
    const child = readPid('child.pid');
    forgeRecord(stubborn, processStartTime(stubborn) ?? 0);
    const { lines, logger } = collectingLogger();
    expect(await reapOrphanedToolProcesses(stateDir, logger, { graceMs: 100 })).toBe(1);
    await waitUntil(() => processIsGone(child) && processIsGone(stubborn), 'the stubborn group is gone');
    expect(lines).toContainEqual(expect.objectContaining({ pgid: stubborn, signal: 'SIGKILL' }));
  });

  it('removes records of groups that ended, unreadable records and half-written ones, and keeps other files', async () => {
    forgeRecord(deadOwner().pid, 5000);
    writeFileSync(join(recordsDir, '12345.json'), '{not json');
    writeFileSync(join(recordsDir, '.777.json.abcd1234.tmp'), '{"pgid":');
    writeFileSync(join(recordsDir, 'README'), 'kept');
    expect(await reapOrphanedToolProcesses(stateDir, collectingLogger().logger)).toBe(0);
    expect(records()).toEqual(['README']);
  });

  it('has nothing to do on a first start', async () => {
    expect(await reapOrphanedToolProcesses(stateDir, collectingLogger().logger)).toBe(0);
  });
});
