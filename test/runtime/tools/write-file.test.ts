// The write_file tool: atomic creates and replaces, parent directories, modes kept, and writes that never leave the workspace.
import { chmodSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeWrite, writeFileTool } from '../../../runtime/tools/write-file.js';
import { contextFor, makeWorkspace, type TempWorkspace } from './workspace.js';

let t: TempWorkspace;
beforeEach(() => {
  t = makeWorkspace();
});
afterEach(() => t.remove());

describe('write_file', () => {
  it('creates a file and its missing parent directories', async () => {
    const outcome = await writeFileTool.run({ path: 'notes/2024/todo.md', content: 'buy milk\ncall mum\n' }, contextFor(t.workspace));
    expect(outcome).toEqual({ ok: true, content: 'created notes/2024/todo.md (2 lines, 18 B)', summary: 'created notes/2024/todo.md (2 lines, 18 B)' });
    expect(readFileSync(join(t.workspace, 'notes', '2024', 'todo.md'), 'utf8')).toBe('buy milk\ncall mum\n');
  });

  it('replaces by rename: a new inode, the old one untouched, no temp file left behind', async () => {
    const file = join(t.workspace, 'a.txt');
    writeFileSync(file, 'old\n');
    linkSync(file, join(t.workspace, 'old-inode'));
    const before = statSync(file).ino;
    const outcome = await writeFileTool.run({ path: 'a.txt', content: 'new\n' }, contextFor(t.workspace));
    expect(outcome.content).toBe('replaced a.txt (1 line, 4 B; it had 4 B)');
    expect(readFileSync(file, 'utf8')).toBe('new\n');
    expect(statSync(file).ino).not.toBe(before);
    expect(readFileSync(join(t.workspace, 'old-inode'), 'utf8')).toBe('old\n');
    expect(readdirSync(t.workspace).sort()).toEqual(['a.txt', 'old-inode']);
  });

  it('never writes through a hard link into a file outside', async () => {
    const secret = join(t.outside, 'passwd');
    writeFileSync(secret, 'root:x:0:0\n');
    linkSync(secret, join(t.workspace, 'linked'));
    await writeFileTool.run({ path: 'linked', content: 'pwned\n' }, contextFor(t.workspace));
    expect(readFileSync(secret, 'utf8')).toBe('root:x:0:0\n');
  });

  it('keeps the mode of a file it replaces', async () => {
    const script = join(t.workspace, 'run.sh');
    writeFileSync(script, '#!/bin/sh\n');
    chmodSync(script, 0o750);
    await writeFileTool.run({ path: 'run.sh', content: '#!/bin/sh\necho hi\n' }, contextFor(t.workspace));
    expect(statSync(script).mode & 0o777).toBe(0o750);
  });

  it('writes an empty file and unicode names', async () => {
    expect((await writeFileTool.run({ path: 'ünï/空.txt', content: '' }, contextFor(t.workspace))).ok).toBe(true);
    expect(readFileSync(join(t.workspace, 'ünï', '空.txt'), 'utf8')).toBe('');
  });

  it('writes through a symlink that stays inside, to its target', async () => {
    mkdirSync(join(t.workspace, 'real'));
    symlinkSync('real', join(t.workspace, 'alias'));
    await writeFileTool.run({ path: 'alias/x.txt', content: 'x' }, contextFor(t.workspace));
    expect(readFileSync(join(t.workspace, 'real', 'x.txt'), 'utf8')).toBe('x');
  });

  it.each([
    ['../escape.txt', /outside the workspace/],
    ['link-out/new.txt', /outside the workspace \(through a symlinked parent directory\)/],
    ['link-out/deep/new/dirs/x.txt', /through a symlinked parent directory/],
    ['link-out-file', /outside the workspace \(through a symlink\)/],
    ['dangling', /symlink to something that does not exist/],
  ])('refuses %s and creates nothing outside', async (path, reason) => {
    symlinkSync(t.outside, join(t.workspace, 'link-out'));
    writeFileSync(join(t.outside, 'file.txt'), 'keep\n');
    symlinkSync(join(t.outside, 'file.txt'), join(t.workspace, 'link-out-file'));
    symlinkSync(join(t.outside, 'created-by-dangling'), join(t.workspace, 'dangling'));
    const outcome = await writeFileTool.run({ path, content: 'x' }, contextFor(t.workspace));
    expect(outcome.ok).toBe(false);
    expect(outcome.content).toMatch(reason);
    expect(readdirSync(t.outside)).toEqual(['file.txt']);
    expect(readFileSync(join(t.outside, 'file.txt'), 'utf8')).toBe('keep\n');
  });

  it('refuses an absolute path outside and accepts one inside', async () => {
    expect((await writeFileTool.run({ path: join(t.outside, 'x'), content: 'x' }, contextFor(t.workspace))).ok).toBe(false);
    expect(existsSync(join(t.outside, 'x'))).toBe(false);
    expect((await writeFileTool.run({ path: join(t.workspace, 'x'), content: 'x' }, contextFor(t.workspace))).ok).toBe(true);
  });

  it('refuses to replace a directory, and to create below a file', async () => {
    mkdirSync(join(t.workspace, 'dir'));
    writeFileSync(join(t.workspace, 'plain'), 'p');
    expect(await writeFileTool.run({ path: 'dir', content: 'x' }, contextFor(t.workspace))).toMatchObject({ ok: false, content: 'dir is a directory; write to a file path inside it' });
    expect(await writeFileTool.run({ path: 'plain/x.txt', content: 'x' }, contextFor(t.workspace))).toMatchObject({ ok: false, content: expect.stringMatching(/a file is in the way/) });
    expect(readFileSync(join(t.workspace, 'plain'), 'utf8')).toBe('p');
  });

  it('describes a write for approval: path, size and first line', () => {
    expect(writeFileTool.describe({ path: 'notes/todo.md', content: '# Todo\n- milk\n' })).toBe('write notes/todo.md (2 lines, 14 bytes): # Todo');
    expect(describeWrite('a.txt', '')).toBe('write a.txt (0 lines, 0 bytes)');
    expect(describeWrite('a.txt', `${'x'.repeat(100)}\n`)).toBe(`write a.txt (1 line, 101 bytes): ${'x'.repeat(59)}…`);
    expect(writeFileTool.describe({ path: 'a.txt' })).toBe('write_file (bad arguments: content is missing)');
    expect(writeFileTool.describe({ path: '', content: 'x' })).toBe('write_file (bad arguments: path must not be empty)');
  });
});
