// A parent directory swapped for a symlink to the outside just as write_file creates the missing directories below it: nothing is created outside.
import { existsSync, mkdirSync, readdirSync, renameSync, symlinkSync } from 'node:fs';
import type * as fsPromises from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { writeFileTool } from '../../../runtime/tools/write-file.js';
import { contextFor, makeWorkspace, type TempWorkspace } from './workspace.js';

// The swap is made at the one moment that matters, the first mkdir of the write, instead of hoping a
// racing process hits it (a racing swapper made directories outside in 50-80 of 400 calls). mkdir itself is the real one.
const beforeFirstMkdir = vi.hoisted(() => ({ swap: undefined as (() => void) | undefined }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof fsPromises>();
  const mkdir = ((...args: Parameters<typeof actual.mkdir>) => {
    const swap = beforeFirstMkdir.swap;
    beforeFirstMkdir.swap = undefined;
    swap?.();
    return actual.mkdir(...args);
  }) as typeof actual.mkdir;
  return { ...actual, mkdir, default: { ...actual, mkdir } };
});

let t: TempWorkspace;
beforeEach(() => {
  t = makeWorkspace();
  mkdirSync(join(t.workspace, 'docs'));
});
afterEach(() => {
  beforeFirstMkdir.swap = undefined;
  t.remove();
});

describe('write_file creating missing parent directories', () => {
  it('creates nothing outside when a parent becomes a symlink to the outside as the first directory is made', async () => {
    const args = { path: 'docs/new/deep/f.txt', content: 'x\n' };
    const ctx = contextFor(t.workspace);
    const plan = await writeFileTool.plan!(args, ctx);
    beforeFirstMkdir.swap = () => {
      renameSync(join(t.workspace, 'docs'), join(t.workspace, 'docs.real'));
      symlinkSync(t.outside, join(t.workspace, 'docs'));
    };
    const outcome = await writeFileTool.run(args, ctx, { plan, approved: true });
    expect(beforeFirstMkdir.swap).toBeUndefined();
    expect(outcome).toMatchObject({ ok: false, content: expect.stringMatching(/^path docs\/new\/deep\/f\.txt .*changed while writing/) });
    expect(readdirSync(t.outside)).toEqual([]);
    // What was made went into the real directory, which stayed in the workspace; the file was not written.
    expect(existsSync(join(t.workspace, 'docs.real', 'new', 'deep', 'f.txt'))).toBe(false);
  });

  it('creates every missing directory inside the workspace when nothing is swapped', async () => {
    const args = { path: 'docs/new/deep/f.txt', content: 'x\n' };
    const ctx = contextFor(t.workspace);
    const outcome = await writeFileTool.run(args, ctx, { plan: await writeFileTool.plan!(args, ctx), approved: true });
    expect(outcome).toMatchObject({ ok: true, summary: 'created docs/new/deep/f.txt (1 line, 2 B)' });
    expect(readdirSync(join(t.workspace, 'docs', 'new', 'deep'))).toEqual(['f.txt']);
  });
});
