// A process swapping a workspace directory for a symlink to an outside one, as fast as it can: no file tool ever shows the outside.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listDirTool } from '../../../runtime/tools/list-dir.js';
import { readFileTool } from '../../../runtime/tools/read-file.js';
import { contextFor, makeWorkspace, type TempWorkspace } from './workspace.js';

const CALLS = 300;
// Calls in flight at once: they share libuv's threadpool, which widens the gap between a check and the use, as a busy runtime does.
const PARALLEL = 10;

/**
 * Runs `call` CALLS times, PARALLEL at a time, and returns every outcome; goes on (up to ten times as
 * many calls) until `sawInside` holds for one of them, since on a loaded machine a whole batch can
 * land while the directory is swapped out, and a run that never caught it in place proves nothing.
 */
async function hammer(call: () => Promise<{ ok: boolean; content: string }>, sawInside: (o: { ok: boolean; content: string }) => boolean): Promise<Array<{ ok: boolean; content: string }>> {
  const outcomes: Array<{ ok: boolean; content: string }> = [];
  while (outcomes.length < CALLS || (!outcomes.some(sawInside) && outcomes.length < CALLS * 10)) {
    outcomes.push(...(await Promise.all(Array.from({ length: PARALLEL }, call))));
  }
  return outcomes;
}

let t: TempWorkspace;
let swapper: ChildProcess | undefined;
beforeEach(() => {
  t = makeWorkspace();
  mkdirSync(join(t.workspace, 'victim'));
  writeFileSync(join(t.workspace, 'victim', 'notes.txt'), 'inside\n');
  writeFileSync(join(t.outside, 'notes.txt'), 'OUTSIDE-CONTENT\n');
  writeFileSync(join(t.outside, 'OUTSIDE-ENTRY'), '');
});
afterEach(() => {
  swapper?.kill('SIGKILL');
  swapper = undefined;
  t.remove();
});

/** Starts a process that keeps replacing `victim` with a symlink to the outside directory and back; resolves once it has swapped. */
async function startSwapping(): Promise<void> {
  // Renames only, between a real directory and a ready symlink: each state lasts as long as it can.
  const script = `
    const fs = require('node:fs');
    const [victim, parked, outside] = process.argv.slice(1);
    fs.symlinkSync(outside, victim + '.link');
    for (let n = 0; ; n++) {
      fs.renameSync(victim, parked);
      fs.renameSync(victim + '.link', victim);
      fs.renameSync(victim, victim + '.link');
      fs.renameSync(parked, victim);
      if (n === 0) process.stdout.write('swapping\\n');
    }`;
  const victim = join(t.workspace, 'victim');
  swapper = spawn(process.execPath, ['-e', script, victim, join(t.workspace, 'parked'), t.outside], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    swapper!.stdout!.once('data', () => resolve());
    swapper!.once('exit', (code) => reject(new Error(`the swapper exited (${code}) before it swapped`)));
  });
}

describe('a directory swapped for a symlink while a tool uses it', () => {
  it(`list_dir never lists the outside directory (${CALLS} calls)`, async () => {
    await startSwapping();
    const listedInside = (o: { ok: boolean; content: string }) => o.ok && o.content.includes('notes.txt');
    const outcomes = await hammer(() => listDirTool.run({ path: 'victim' }, contextFor(t.workspace)), listedInside);
    expect(outcomes.filter((o) => o.content.includes('OUTSIDE-ENTRY'))).toEqual([]);
    // The race was real: some calls found the directory in place and listed it.
    expect(outcomes.some(listedInside)).toBe(true);
  });

  it(`read_file never reads through the swapped directory (${CALLS} calls)`, async () => {
    await startSwapping();
    const readInside = (o: { ok: boolean; content: string }) => o.ok && o.content === 'inside\n';
    const outcomes = await hammer(() => readFileTool.run({ path: 'victim/notes.txt' }, contextFor(t.workspace)), readInside);
    expect(outcomes.filter((o) => o.content.includes('OUTSIDE-CONTENT'))).toEqual([]);
    expect(outcomes.some(readInside)).toBe(true);
  });
});
