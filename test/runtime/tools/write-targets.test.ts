// Where a write really lands: the real target is named before anyone approves, a symlink is written through only to an approved target, .git/ always asks.
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileTool } from '../../../runtime/tools/write-file.js';
import { contextFor, makeWorkspace, type TempWorkspace } from './workspace.js';

let t: TempWorkspace;
beforeEach(() => {
  t = makeWorkspace();
  // A cloned repository can hold exactly this: a tracked symlink into its own .git.
  mkdirSync(join(t.workspace, '.git'));
  writeFileSync(join(t.workspace, '.git', 'config'), '[core]\n\tbare = false\n');
  mkdirSync(join(t.workspace, 'docs'));
  symlinkSync('../.git/config', join(t.workspace, 'docs', 'notes.md'));
  mkdirSync(join(t.workspace, 'notes'));
  writeFileSync(join(t.workspace, 'notes', 'real.md'), 'real\n');
  symlinkSync('../notes/real.md', join(t.workspace, 'docs', 'a.md'));
});
afterEach(() => t.remove());

const PAYLOAD = '[core]\n\tfsmonitor = touch PWNED\n';
const ctx = () => contextFor(t.workspace);
const gitConfig = () => readFileSync(join(t.workspace, '.git', 'config'), 'utf8');

describe('write targets', () => {
  it('names the real target before anyone is asked, and a write into .git/ asks even under auto', async () => {
    const plan = await writeFileTool.plan!({ path: 'docs/notes.md', content: PAYLOAD }, ctx());
    expect(plan).toEqual({ summary: 'write docs/notes.md → .git/config (2 lines, 32 bytes): [core]', alwaysAsk: true, target: join(t.workspace, '.git', 'config') });
    expect(await writeFileTool.plan!({ path: 'docs/a.md', content: 'x' }, ctx())).toMatchObject({ summary: 'write docs/a.md → notes/real.md (1 line, 1 byte): x', alwaysAsk: false });
    expect(await writeFileTool.plan!({ path: 'notes/new.md', content: 'x' }, ctx())).toMatchObject({ summary: 'write notes/new.md (1 line, 1 byte): x', alwaysAsk: false });
    expect(await writeFileTool.plan!({ path: '.GIT/hooks/pre-commit', content: 'x' }, ctx())).toMatchObject({ alwaysAsk: true });
  });

  it('refuses a write into .git/ that no person approved, through a symlink or not', async () => {
    for (const path of ['docs/notes.md', '.git/config', '.git/hooks/post-checkout']) {
      const outcome = await writeFileTool.run({ path, content: PAYLOAD }, ctx());
      expect(outcome.ok, path).toBe(false);
      expect(outcome.content).toMatch(/inside a \.git directory, where a changed file can run commands \(hooks, config\); such writes need a person's approval/);
    }
    expect(gitConfig()).toBe('[core]\n\tbare = false\n');
  });

  it('writes through the symlink to the target a person approved, and says where it went', async () => {
    const plan = await writeFileTool.plan!({ path: 'docs/notes.md', content: PAYLOAD }, ctx());
    const outcome = await writeFileTool.run({ path: 'docs/notes.md', content: PAYLOAD }, ctx(), { plan, approved: true });
    expect(outcome).toEqual({ ok: true, content: 'replaced docs/notes.md → .git/config (2 lines, 32 B; it had 21 B)', summary: 'replaced docs/notes.md → .git/config (2 lines, 32 B)' });
    expect(gitConfig()).toBe(PAYLOAD);
    expect(lstatSync(join(t.workspace, 'docs', 'notes.md')).isSymbolicLink()).toBe(true);
  });

  it('replaces a symlink it was not approved to write through, leaving its target as it was', async () => {
    const plan = await writeFileTool.plan!({ path: 'docs/a.md', content: 'mine\n' }, ctx());
    const outcome = await writeFileTool.run({ path: 'docs/a.md', content: 'mine\n' }, ctx(), { plan, approved: false });
    expect(outcome).toEqual({
      ok: true,
      content: 'replaced the symlink docs/a.md (it led to notes/real.md) with a file (1 line, 5 B); notes/real.md was not changed',
      summary: 'replaced the symlink docs/a.md (it led to notes/real.md) with a file (1 line, 5 B)',
    });
    expect(lstatSync(join(t.workspace, 'docs', 'a.md')).isFile()).toBe(true);
    expect(readFileSync(join(t.workspace, 'docs', 'a.md'), 'utf8')).toBe('mine\n');
    expect(readFileSync(join(t.workspace, 'notes', 'real.md'), 'utf8')).toBe('real\n');
  });

  it('writes nothing when the symlink was pointed elsewhere after the person approved', async () => {
    const plan = await writeFileTool.plan!({ path: 'docs/a.md', content: PAYLOAD }, ctx());
    rmSync(join(t.workspace, 'docs', 'a.md'));
    symlinkSync('../.git/config', join(t.workspace, 'docs', 'a.md'));
    const outcome = await writeFileTool.run({ path: 'docs/a.md', content: PAYLOAD }, ctx(), { plan, approved: true });
    expect(outcome.ok).toBe(false);
    expect(outcome.content).toBe('not written: docs/a.md now leads to .git/config, not to notes/real.md as shown before; call write_file again to see where it goes');
    expect(gitConfig()).toBe('[core]\n\tbare = false\n');
    expect(readFileSync(join(t.workspace, 'notes', 'real.md'), 'utf8')).toBe('real\n');
  });

  it('writes an approved write whose target could not be resolved only where the approval named it, never into what a dangling symlink came to lead to', async () => {
    // docs2 -> .git/hooks, which does not exist yet: the plan cannot resolve a target and names the path as given.
    symlinkSync('.git/hooks', join(t.workspace, 'docs2'));
    const args = { path: 'docs2/pre-commit', content: '#!/bin/sh\ntouch PWNED\n' };
    const plan = await writeFileTool.plan!(args, ctx());
    expect(plan).toEqual({ summary: 'write docs2/pre-commit (2 lines, 22 bytes): #!/bin/sh', alwaysAsk: false, target: join(t.workspace, 'docs2', 'pre-commit') });
    // Something else (a git init in another thread) creates .git/hooks before the person approves.
    mkdirSync(join(t.workspace, '.git', 'hooks'));
    const outcome = await writeFileTool.run(args, ctx(), { plan, approved: true });
    expect(outcome.ok).toBe(false);
    expect(outcome.content).toBe('not written: docs2/pre-commit now leads to .git/hooks/pre-commit, not to docs2/pre-commit as shown before; call write_file again to see where it goes');
    expect(readdirSync(join(t.workspace, '.git', 'hooks'))).toEqual([]);
  });

  it('holds an approval given without a plan to the path as given', async () => {
    symlinkSync('.git/hooks', join(t.workspace, 'docs2'));
    mkdirSync(join(t.workspace, '.git', 'hooks'));
    const outcome = await writeFileTool.run({ path: 'docs2/pre-commit', content: 'x' }, ctx(), { approved: true });
    expect(outcome).toMatchObject({ ok: false, content: expect.stringMatching(/^not written: docs2\/pre-commit now leads to \.git\/hooks\/pre-commit/) });
    expect(readdirSync(join(t.workspace, '.git', 'hooks'))).toEqual([]);
  });

  it('names the real directory when a parent directory is a symlink', async () => {
    symlinkSync('notes', join(t.workspace, 'alias'));
    expect((await writeFileTool.plan!({ path: 'alias/new.md', content: 'x' }, ctx())).summary).toBe('write alias/new.md → notes/new.md (1 line, 1 byte): x');
    expect((await writeFileTool.run({ path: 'alias/new.md', content: 'x' }, ctx())).summary).toBe('created alias/new.md → notes/new.md (1 line, 1 B)');
  });
});
