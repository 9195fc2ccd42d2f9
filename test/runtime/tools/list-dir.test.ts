// The list_dir tool: sorted entries with type and size, symlinks shown not followed, caps, refusals.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LIST_DIR_MAX_ENTRIES, listDirTool } from '../../../runtime/tools/list-dir.js';
import { contextFor, makeWorkspace, type TempWorkspace } from './workspace.js';

let t: TempWorkspace;
beforeEach(() => {
  t = makeWorkspace();
});
afterEach(() => t.remove());

describe('list_dir', () => {
  it('lists the workspace by default, sorted, each entry with its type and size', async () => {
    mkdirSync(join(t.workspace, 'src'));
    writeFileSync(join(t.workspace, 'README.md'), 'x'.repeat(2048));
    writeFileSync(join(t.workspace, '.env.example'), 'A=1\n');
    symlinkSync(t.outside, join(t.workspace, 'out'));
    const outcome = await listDirTool.run({}, contextFor(t.workspace));
    expect(outcome).toEqual({
      ok: true,
      content: ['the workspace: 4 entries', '.env.example  file, 4 B', 'README.md  file, 2.0 KB', `out  symlink -> ${t.outside}`, 'src/  dir'].join('\n'),
      summary: 'list . (4 entries)',
    });
  });

  it('lists a subdirectory and says when it is empty', async () => {
    mkdirSync(join(t.workspace, 'a', 'b'), { recursive: true });
    expect(await listDirTool.run({ path: 'a/b' }, contextFor(t.workspace))).toMatchObject({ ok: true, content: 'a/b/: 0 entries\n(empty)' });
  });

  it('caps the entries it shows and says how many more there are', async () => {
    for (let i = 0; i < LIST_DIR_MAX_ENTRIES + 5; i++) writeFileSync(join(t.workspace, `f${String(i).padStart(4, '0')}`), '');
    const outcome = await listDirTool.run({ path: '.' }, contextFor(t.workspace));
    expect(outcome.content.split('\n')).toHaveLength(1 + LIST_DIR_MAX_ENTRIES + 1);
    expect(outcome.content).toMatch(/\n\[… and 5 more not shown; use shell/);
    const small = await listDirTool.run({ path: '.' }, contextFor(t.workspace, { outputMax: 1024 }));
    expect(Buffer.byteLength(small.content)).toBeLessThan(1024 + 200);
    expect(small.content).toMatch(/more not shown/);
  });

  it.each([
    ['../outside', /outside the workspace/],
    ['out', /outside the workspace \(through a symlink\)/],
    ['missing', /^no such directory: missing$/],
    ['file.txt', /^file\.txt is a file; use read_file to read it$/],
  ])('refuses %s', async (path, reason) => {
    symlinkSync(t.outside, join(t.workspace, 'out'));
    writeFileSync(join(t.workspace, 'file.txt'), 'x');
    const outcome = await listDirTool.run({ path }, contextFor(t.workspace));
    expect(outcome.ok).toBe(false);
    expect(outcome.content).toMatch(reason);
  });

  it('describes itself without throwing', () => {
    expect(listDirTool.describe({})).toBe('list .');
    expect(listDirTool.describe({ path: 'src' })).toBe('list src');
    expect(listDirTool.describe({ path: 3 })).toBe('list_dir (bad arguments: path must be a string)');
  });
});
