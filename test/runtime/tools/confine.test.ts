// Table tests of path confinement: what resolves inside the workspace and what is refused, symlinks included.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confinePath, isInside, lexicalTarget } from '../../../runtime/tools/confine.js';
import { makeWorkspace, type TempWorkspace } from './workspace.js';

describe('isInside', () => {
  it.each([
    ['/ws', '/ws', true],
    ['/ws', '/ws/a', true],
    ['/ws', '/ws/a/../b', true],
    ['/ws', '/ws/..foo', true],
    ['/ws', '/wsx', false],
    ['/ws', '/', false],
    ['/ws', '/other/ws', false],
    ['/', '/anything', true],
  ])('%s contains %s: %s', (root, path, expected) => {
    expect(isInside(root, path)).toBe(expected);
  });
});

describe('lexicalTarget', () => {
  it.each([
    ['a.txt', '/ws/a.txt'],
    ['./a/../b.txt', '/ws/b.txt'],
    ['', '/ws'],
    ['.', '/ws'],
    ['..foo', '/ws/..foo'],
    ['/ws/a.txt', '/ws/a.txt'],
    ['/etc/passwd', '/etc/passwd'], // absolute paths are decided once symlinks are resolved
  ])('%j points at %s', (requested, path) => {
    expect(lexicalTarget('/ws', requested)).toMatchObject({ ok: true, path });
  });

  it.each([
    ['../x', /path \.\.\/x is outside the workspace/],
    ['..', /outside the workspace/],
    ['a/../../x', /outside the workspace/],
    ['~/notes.txt', /~, which is not expanded/],
    ['a\0b', /NUL/],
  ])('%j is refused', (requested, reason) => {
    const result = lexicalTarget('/ws', requested);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});

describe('confinePath', () => {
  let t: TempWorkspace;
  let ws: string;

  beforeAll(() => {
    t = makeWorkspace();
    ws = t.workspace;
    writeFileSync(join(t.outside, 'secret.txt'), 'secret');
    writeFileSync(join(ws, 'a.txt'), 'a');
    mkdirSync(join(ws, 'sub'));
    writeFileSync(join(ws, 'sub', 'b.txt'), 'b');
    symlinkSync(join(t.outside, 'secret.txt'), join(ws, 'link-out-file'));
    symlinkSync(t.outside, join(ws, 'link-out-dir'));
    symlinkSync('../outside', join(ws, 'sub', 'relative-link-out'));
    symlinkSync('sub/b.txt', join(ws, 'link-in'));
    symlinkSync('sub', join(ws, 'link-in-dir'));
    symlinkSync(join(t.outside, 'nothing-here'), join(ws, 'dangling'));
    symlinkSync('loop-b', join(ws, 'loop-a'));
    symlinkSync('loop-a', join(ws, 'loop-b'));
    mkdirSync(join(ws, 'ünï'));
    writeFileSync(join(ws, 'ünï', 'файл 文件.txt'), 'u');
    // The workspace reached through an alias: absolute paths through it are still inside.
    symlinkSync(ws, join(t.root, 'alias'));
  });
  afterAll(() => t.remove());

  const allowed: [string, (ws: string) => string, boolean][] = [
    ['a.txt', (w) => join(w, 'a.txt'), true],
    ['sub/../a.txt', (w) => join(w, 'a.txt'), true],
    ['.', (w) => w, true],
    ['sub/b.txt', (w) => join(w, 'sub', 'b.txt'), true],
    ['link-in', (w) => join(w, 'sub', 'b.txt'), true],
    ['link-in-dir/b.txt', (w) => join(w, 'sub', 'b.txt'), true],
    ['link-in-dir/new.txt', (w) => join(w, 'sub', 'new.txt'), false],
    ['new.txt', (w) => join(w, 'new.txt'), false],
    ['new/deeper/still/x.txt', (w) => join(w, 'new', 'deeper', 'still', 'x.txt'), false],
    ['ünï/файл 文件.txt', (w) => join(w, 'ünï', 'файл 文件.txt'), true],
    ['ünï/新しい/ファイル.md', (w) => join(w, 'ünï', '新しい', 'ファイル.md'), false],
  ];
  it.each(allowed)('%j resolves inside', async (requested, expected, exists) => {
    expect(await confinePath(ws, requested)).toEqual({ ok: true, path: expected(ws), shown: requested === '.' ? '.' : expect.any(String), exists });
  });

  it('allows an absolute path that lies inside, also through an alias of the workspace', async () => {
    expect(await confinePath(ws, join(ws, 'a.txt'))).toMatchObject({ ok: true, path: join(ws, 'a.txt'), shown: 'a.txt' });
    expect(await confinePath(ws, join(t.root, 'alias', 'sub', 'b.txt'))).toMatchObject({ ok: true, path: join(ws, 'sub', 'b.txt') });
    expect(await confinePath(ws, join(t.root, 'alias', 'brand-new.txt'))).toMatchObject({ ok: true, path: join(ws, 'brand-new.txt'), exists: false });
  });

  const refused: [string | ((t: TempWorkspace) => string), RegExp][] = [
    ['../outside/secret.txt', /path \.\.\/outside\/secret\.txt is outside the workspace/],
    [(x) => join(x.outside, 'secret.txt'), /is outside the workspace; file tools only work inside/],
    ['/etc/passwd', /outside the workspace/],
    [(x) => join(x.outside, 'not-yet.txt'), /outside the workspace/],
    ['link-out-file', /outside the workspace \(through a symlink\)/],
    ['link-out-dir', /outside the workspace \(through a symlink\)/],
    ['link-out-dir/secret.txt', /outside the workspace \(through a symlink\)/],
    ['link-out-dir/new-file.txt', /outside the workspace \(through a symlinked parent directory\)/],
    ['link-out-dir/new/nested/dirs/x.txt', /through a symlinked parent directory/],
    ['sub/relative-link-out/secret.txt', /through a symlink/],
    ['dangling', /symlink to something that does not exist/],
    ['dangling/x.txt', /through a symlink to something that does not exist/],
    ['loop-a', /symlink loop/],
    ['../workspace-sibling.txt', /outside the workspace/],
  ];
  it.each(refused)('%s is refused with a reason the model can act on', async (requested, reason) => {
    const path = typeof requested === 'string' ? requested : requested(t);
    const result = await confinePath(ws, path);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});
