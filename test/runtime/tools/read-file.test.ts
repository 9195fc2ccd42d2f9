// The read_file tool: whole files, line ranges, the output cap and reading on, and what it refuses.
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileTool } from '../../../runtime/tools/read-file.js';
import { contextFor, makeWorkspace, type TempWorkspace } from './workspace.js';

let t: TempWorkspace;
beforeEach(() => {
  t = makeWorkspace();
});
afterEach(() => t.remove());

const numbered = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}\n`).join('');

describe('read_file', () => {
  it('returns a text file exactly as stored, with a summary', async () => {
    writeFileSync(join(t.workspace, 'notes.md'), 'hello\nwörld\n');
    expect(await readFileTool.run({ path: 'notes.md' }, contextFor(t.workspace))).toEqual({ ok: true, content: 'hello\nwörld\n', summary: 'read notes.md (2 lines, 13 B)' });
  });

  it('counts a last line without a newline', async () => {
    writeFileSync(join(t.workspace, 'x.txt'), 'a\nb');
    expect(await readFileTool.run({ path: 'x.txt' }, contextFor(t.workspace))).toMatchObject({ content: 'a\nb', summary: 'read x.txt (2 lines, 3 B)' });
  });

  it('reads a range of lines and says where to read on', async () => {
    writeFileSync(join(t.workspace, 'n.txt'), numbered(10));
    const outcome = await readFileTool.run({ path: 'n.txt', offset: 3, limit: 2 }, contextFor(t.workspace));
    expect(outcome.content).toBe('line 3\nline 4\n[lines 3–4 shown; the file goes on: read on with offset 5]');
    expect(outcome.summary).toBe('read n.txt (lines 3–4, 71 B)');
  });

  it('adds no note when the range reaches the end of the file exactly', async () => {
    writeFileSync(join(t.workspace, 'n.txt'), numbered(4));
    expect((await readFileTool.run({ path: 'n.txt', offset: 3, limit: 2 }, contextFor(t.workspace))).content).toBe('line 3\nline 4\n');
  });

  it('says so when the offset is past the end', async () => {
    writeFileSync(join(t.workspace, 'n.txt'), numbered(4));
    expect(await readFileTool.run({ path: 'n.txt', offset: 9 }, contextFor(t.workspace))).toMatchObject({ ok: false, content: 'n.txt has 4 lines; offset 9 is past the end' });
  });

  it('stops at the output cap on a line boundary, and reading on from the offset it names rebuilds the file', async () => {
    const text = numbered(20_000);
    writeFileSync(join(t.workspace, 'big.txt'), text);
    const ctx = contextFor(t.workspace, { outputMax: 8192 });
    let rebuilt = '';
    let offset = 1;
    let pages = 0;
    for (;;) {
      const outcome = await readFileTool.run({ path: 'big.txt', offset }, ctx);
      expect(outcome.ok).toBe(true);
      const m = /\[lines \d+–(\d+) of a .* file shown; stopped at the 8\.0 KB output limit: read on with offset (\d+)\]$/.exec(outcome.content);
      pages++;
      if (!m) {
        rebuilt += outcome.content;
        break;
      }
      const page = outcome.content.slice(0, m.index);
      expect(Buffer.byteLength(page)).toBeLessThanOrEqual(8192);
      expect(page.endsWith('\n')).toBe(true);
      rebuilt += page;
      expect(Number(m[2])).toBe(Number(m[1]) + 1);
      offset = Number(m[2]);
    }
    expect(rebuilt).toBe(text);
    expect(pages).toBeGreaterThan(20);
  });

  it('cuts a single line longer than the cap without splitting a character, and says so', async () => {
    writeFileSync(join(t.workspace, 'min.js'), '漢'.repeat(5000));
    const outcome = await readFileTool.run({ path: 'min.js' }, contextFor(t.workspace, { outputMax: 1024 }));
    expect(outcome.ok).toBe(true);
    expect(outcome.content).toBe(`${'漢'.repeat(341)}\n[line 1 is longer than the 1.0 KB output limit and was cut; use shell (e.g. \`cut -c1-2000\`) to see the rest]`);
  });

  it('refuses a binary file with a message that points elsewhere', async () => {
    writeFileSync(join(t.workspace, 'image.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]));
    const outcome = await readFileTool.run({ path: 'image.png' }, contextFor(t.workspace));
    expect(outcome.ok).toBe(false);
    expect(outcome.content).toMatch(/^image\.png looks binary \(it has NUL bytes; 12 B\); read_file only reads text/);
  });

  it('sends a directory to list_dir', async () => {
    mkdirSync(join(t.workspace, 'src'));
    expect(await readFileTool.run({ path: 'src' }, contextFor(t.workspace))).toMatchObject({ ok: false, content: 'src is a directory; use list_dir to see what it holds' });
  });

  it('refuses a FIFO instead of hanging on it', async () => {
    execFileSync('mkfifo', [join(t.workspace, 'pipe')]);
    expect(await readFileTool.run({ path: 'pipe' }, contextFor(t.workspace))).toMatchObject({ ok: false, content: expect.stringMatching(/is not a regular file/) });
  });

  it('reports a missing file', async () => {
    expect(await readFileTool.run({ path: 'nope.txt' }, contextFor(t.workspace))).toMatchObject({ ok: false, content: 'no such file: nope.txt (list_dir shows what exists)' });
  });

  it('says an empty file is empty', async () => {
    writeFileSync(join(t.workspace, 'empty'), '');
    expect(await readFileTool.run({ path: 'empty' }, contextFor(t.workspace))).toMatchObject({ ok: true, content: '(empty file)' });
  });

  it('refuses files outside the workspace, directly or through a symlink', async () => {
    writeFileSync(join(t.outside, 'secret.txt'), 'top secret');
    symlinkSync(join(t.outside, 'secret.txt'), join(t.workspace, 'innocent.txt'));
    for (const path of ['../outside/secret.txt', join(t.outside, 'secret.txt'), 'innocent.txt']) {
      const outcome = await readFileTool.run({ path }, contextFor(t.workspace));
      expect(outcome.ok).toBe(false);
      expect(outcome.content).toMatch(/outside the workspace/);
      expect(outcome.content).not.toContain('top secret');
    }
  });

  it('follows a symlink that stays inside', async () => {
    writeFileSync(join(t.workspace, 'real.txt'), 'real\n');
    symlinkSync('real.txt', join(t.workspace, 'alias.txt'));
    expect(await readFileTool.run({ path: 'alias.txt' }, contextFor(t.workspace))).toMatchObject({ ok: true, content: 'real\n' });
  });

  it('describes reads and bad arguments without throwing', () => {
    expect(readFileTool.describe({ path: 'a.md' })).toBe('read a.md');
    expect(readFileTool.describe({ path: 'a.md', offset: 10, limit: 5 })).toBe('read a.md lines 10–14');
    expect(readFileTool.describe({ path: 'a.md', offset: '10' })).toBe('read a.md from line 10');
    expect(readFileTool.describe({ path: 'a.md', offset: 0 })).toBe('read_file (bad arguments: offset must be a positive whole number)');
    expect(readFileTool.describe(null)).toBe('read_file (bad arguments: path is missing)');
    expect(readFileTool.describe([1])).toBe('read_file (bad arguments: arguments must be a JSON object)');
  });
});
