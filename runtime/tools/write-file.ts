// The write_file tool: creates or replaces a file of the workspace atomically (temp file + rename in the same directory).
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, realpath, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { parseArguments } from './arguments.js';
import { confinePath, isInside, lexicalTarget } from './confine.js';
import { countLines, formatBytes, headline, oneLine, plural } from './measure.js';
import { descriptorPath, openedOutside, realPathOf } from './opened-path.js';
import { isInGitDirectory } from './protected-paths.js';
import type { Tool, ToolCallGrant, ToolContext, ToolOutcome, ToolPlan } from './types.js';

export interface WriteFileArguments {
  path: string;
  content: string;
}

export function parseWriteFileArguments(args: unknown) {
  return parseArguments<WriteFileArguments>(args, (a) => ({
    path: a.requiredString('path', { nonEmpty: true }),
    content: a.requiredString('content'),
  }));
}

const FIRST_LINE_CHARS = 60;

/** `notes/todo.md (12 lines, 340 bytes): first line…`: what a person approves. Pure. */
export function describeWrite(path: string, content: string): string {
  const bytes = Buffer.byteLength(content);
  const size = `${plural(countLines(content), 'line')}, ${plural(bytes, 'byte')}`;
  const firstLine = content.split('\n', 1)[0] ?? '';
  return `write ${path} (${size})${firstLine.trim() ? `: ${oneLine(firstLine, FIRST_LINE_CHARS)}` : ''}`;
}

function refused(path: string, content: string): ToolOutcome {
  return { ok: false, content, summary: `write ${path}: ${headline(content)}` };
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Where a write of `path` would land, found before anyone is asked and again just before writing. */
interface WriteTarget {
  /** The path as the workspace sees it, for messages. */
  shown: string;
  /** The real path, every symlink on the way resolved: where writing through lands. */
  real: string;
  /** `real` relative to the workspace. */
  realShown: string;
  /** When the path's last component is a symlink: where that symlink itself is (its directory resolved). */
  link: string | undefined;
  /** The real path or the symlink is in a .git directory: a person must approve even under auto. */
  intoGit: boolean;
}

type Resolved = { ok: true; target: WriteTarget } | { ok: false; reason: string; shown: string };

async function resolveTarget(ctx: ToolContext, path: string): Promise<Resolved> {
  const where = await confinePath(ctx.workspace, path, ctx.stateDir);
  if (!where.ok) return { ok: false, reason: where.reason, shown: path };
  const lexical = lexicalTarget(ctx.workspace, path);
  if (!lexical.ok) return { ok: false, reason: lexical.reason, shown: path };
  let link: string | undefined;
  if ((await lstat(lexical.path).catch(() => undefined))?.isSymbolicLink()) {
    link = join(await realpath(dirname(lexical.path)), basename(lexical.path));
    if (!isInside(ctx.workspace, link)) return { ok: false, reason: `path ${path} is a symlink outside the workspace; file tools only work inside ${ctx.workspace}, use a path relative to it`, shown: path };
  }
  const realShown = relative(ctx.workspace, where.path) || '.';
  const linkShown = link === undefined ? '' : relative(ctx.workspace, link);
  const intoGit = isInGitDirectory(realShown) || isInGitDirectory(linkShown);
  return { ok: true, target: { shown: where.shown, real: where.path, realShown, link, intoGit } };
}

/** `docs/notes.md → .git/config` when a symlink leads elsewhere, else the path. */
function pathAndTarget(t: WriteTarget): string {
  return t.realShown === t.shown ? t.shown : `${t.shown} → ${t.realShown}`;
}

async function plan(args: unknown, ctx: ToolContext): Promise<ToolPlan> {
  const parsed = parseWriteFileArguments(args);
  if (!parsed.ok) return { summary: `write_file (bad arguments: ${parsed.problem})`, alwaysAsk: false };
  const resolved = await resolveTarget(ctx, parsed.value.path).catch(() => undefined);
  if (!resolved?.ok) {
    // Nothing real to name (a dangling symlink on the way, say): the summary names the path as given,
    // and the run writes only if the path then leads there, never into what the symlink came to point at.
    const named = lexicalTarget(ctx.workspace, parsed.value.path);
    return { summary: describeWrite(parsed.value.path, parsed.value.content), alwaysAsk: false, ...(named.ok && { target: named.path }) };
  }
  const t = resolved.target;
  return { summary: describeWrite(pathAndTarget(t), parsed.value.content), alwaysAsk: t.intoGit, target: t.real };
}

const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** Opens one directory without following a symlink; a symlink there fails as ELOOP (Linux answers ENOTDIR to O_DIRECTORY|O_NOFOLLOW). */
async function openComponent(path: string): Promise<FileHandle> {
  try {
    return await open(path, DIRECTORY_FLAGS);
  } catch (err) {
    if (code(err) === 'ENOTDIR' && (await lstat(path).catch(() => undefined))?.isSymbolicLink()) throw Object.assign(new Error(`${path} is a symlink`), { code: 'ELOOP' });
    throw err;
  }
}

/**
 * Opens `dir` (a real path inside `workspace`), creating missing directories on the way one
 * component at a time: each is made inside the directory opened before it (through /proc/self/fd
 * on Linux) and opened O_NOFOLLOW, so a component swapped for a symlink is refused (ELOOP), never
 * followed; `mkdir -p` of the whole path followed a swapped parent and made directories outside.
 * Without /proc the components are reached by path, each still opened O_NOFOLLOW.
 */
async function openDirectoryCreating(workspace: string, dir: string): Promise<FileHandle> {
  let handle = await open(workspace, DIRECTORY_FLAGS);
  try {
    const viaDescriptor = (await realPathOf(handle.fd)) !== undefined;
    let path = workspace;
    for (const name of relative(workspace, dir).split(sep).filter((part) => part !== '')) {
      const child = join(viaDescriptor ? descriptorPath(handle.fd) : path, name);
      const next = await openComponent(child).catch(async (err: unknown) => {
        if (code(err) !== 'ENOENT') throw err;
        await mkdir(child).catch((mkdirErr: unknown) => {
          if (code(mkdirErr) !== 'EEXIST') throw mkdirErr;
        });
        return openComponent(child);
      });
      await handle.close();
      handle = next;
      path = join(path, name);
    }
    return handle;
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
}

/** Makes the file's directory durable after a rename; best effort (some filesystems refuse fsync on directories). */
async function syncDirectory(dir: FileHandle): Promise<void> {
  try {
    await dir.sync();
  } catch {
    // durability of the rename is a bonus, not a condition of success
  }
}

/**
 * Writes `content` as `name` in the directory open as `dir`: a new temporary file (O_EXCL|O_NOFOLLOW),
 * fsynced, renamed over the name. On Linux both go through /proc/self/fd, so they land in the
 * directory that was opened and checked even if its path is swapped for a symlink meanwhile.
 */
async function writeAtomically(dir: FileHandle, dirPath: string, name: string, content: string, previousMode: number | undefined): Promise<void> {
  const base = (await realPathOf(dir.fd)) === undefined ? dirPath : descriptorPath(dir.fd);
  const temp = join(base, `.${name}.${randomBytes(6).toString('hex')}.tether-tmp`);
  try {
    const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, previousMode ?? 0o666);
    try {
      await handle.writeFile(content, 'utf8');
      // An existing file keeps its mode (a script stays executable); open's mode is filtered by the umask.
      if (previousMode !== undefined) await handle.chmod(previousMode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    // rename replaces whatever is at the name (even a symlink planted there) instead of writing through it.
    await rename(temp, join(base, name));
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
}

async function run(args: unknown, ctx: ToolContext, grant: ToolCallGrant = { approved: false }): Promise<ToolOutcome> {
  const parsed = parseWriteFileArguments(args);
  if (!parsed.ok) {
    return { ok: false, content: `bad arguments: ${parsed.problem}; call write_file with {"path": "<relative path>", "content": "<the whole new file>"}`, summary: `write_file: bad arguments (${parsed.problem})` };
  }
  const { path, content } = parsed.value;
  if (ctx.signal.aborted) return refused(path, 'not written: the turn was already stopped');
  const resolved = await resolveTarget(ctx, path);
  if (!resolved.ok) return refused(resolved.shown, resolved.reason);
  const t = resolved.target;

  // What was shown and approved: the plan's target or, for an approval without one, the path as given.
  const asGiven = lexicalTarget(ctx.workspace, path);
  const planned = grant.plan?.target ?? (grant.approved && asGiven.ok ? asGiven.path : undefined);
  if (planned !== undefined && planned !== t.real) {
    const was = isInside(ctx.workspace, planned) ? relative(ctx.workspace, planned) || '.' : planned;
    return refused(t.shown, `not written: ${t.shown} now leads to ${t.realShown}, not to ${was} as shown before; call write_file again to see where it goes`);
  }
  if (t.intoGit && !grant.approved) {
    return refused(t.shown, `not written: ${pathAndTarget(t)} is inside a .git directory, where a changed file can run commands (hooks, config); such writes need a person's approval`);
  }
  // A symlink is written through only to the target a person approved; otherwise the symlink itself is replaced.
  const through = t.link === undefined || (grant.approved && planned === t.real);
  const dest = through ? t.real : t.link!;
  const dir = dirname(dest);

  let previousMode: number | undefined;
  let previousSize: number | undefined;
  const existing = await lstat(dest).catch(() => undefined);
  const real = through ? existing : await stat(t.real).catch(() => undefined);
  if (real?.isDirectory()) return refused(t.shown, `${pathAndTarget(t)} is a directory; write to a file path inside it`);
  if (existing && !existing.isFile() && !existing.isSymbolicLink()) return refused(t.shown, `${t.shown} is not a regular file; it is not replaced`);
  if (existing?.isFile()) {
    previousMode = existing.mode & 0o7777;
    previousSize = existing.size;
  }

  let dirHandle: FileHandle;
  try {
    dirHandle = await openDirectoryCreating(ctx.workspace, dir);
    // Without /proc the descriptor cannot say where it is: check the path again after creating directories.
    if ((await realPathOf(dirHandle.fd)) === undefined && (await realpath(dir)) !== dir) {
      await dirHandle.close();
      return refused(t.shown, `path ${path} is outside the workspace (its directory changed while writing); file tools only work inside ${ctx.workspace}`);
    }
  } catch (err) {
    if (code(err) === 'EEXIST' || code(err) === 'ENOTDIR') return refused(t.shown, `cannot create the directory of ${t.shown}: a file is in the way`);
    if (code(err) === 'ELOOP') return refused(t.shown, `path ${path} is outside the workspace (its directory changed while writing); file tools only work inside ${ctx.workspace}`);
    return refused(t.shown, `cannot create the directory of ${t.shown}: ${(err as Error).message}`);
  }
  try {
    const opened = await realPathOf(dirHandle.fd);
    const moved = await openedOutside(dirHandle.fd, ctx.workspace, ctx.stateDir, path);
    if (moved) return refused(t.shown, moved);
    if (opened !== undefined && opened !== dir) return refused(t.shown, `path ${path} changed while writing (its directory is now ${opened}); nothing was written`);
    await writeAtomically(dirHandle, dir, basename(dest), content, previousMode);
    await syncDirectory(dirHandle);
  } catch (err) {
    if (code(err) === 'ENOSPC') return refused(t.shown, `${t.shown} was not written: the disk is full`);
    if (code(err) === 'EACCES' || code(err) === 'EPERM') return refused(t.shown, `${t.shown} was not written: permission denied`);
    return refused(t.shown, `${t.shown} was not written: ${(err as Error).message}`);
  } finally {
    await dirHandle.close().catch(() => {});
  }

  const bytes = Buffer.byteLength(content);
  const what = `${plural(countLines(content), 'line')}, ${formatBytes(bytes)}`;
  if (!through) {
    const said = `replaced the symlink ${t.shown} (it led to ${t.realShown}) with a file (${what})`;
    return { ok: true, content: `${said}; ${t.realShown} was not changed`, summary: said };
  }
  const verb = previousSize === undefined ? 'created' : 'replaced';
  const was = previousSize === undefined ? '' : `; it had ${formatBytes(previousSize)}`;
  return { ok: true, content: `${verb} ${pathAndTarget(t)} (${what}${was})`, summary: `${verb} ${pathAndTarget(t)} (${what})` };
}

export const writeFileTool: Tool = {
  schema: {
    name: 'write_file',
    description:
      'Create or replace a file of the workspace with the given content (the whole file). Missing parent directories are created. The write is atomic: readers see the old file or the new one, never half.',
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'Path relative to the workspace, e.g. "notes/todo.md".' },
        content: { type: 'string', description: 'The complete new content of the file.' },
      },
      required: ['path', 'content'],
      additionalProperties: false,
    },
  },
  risky: true,
  readonly: false,
  describe(args) {
    const parsed = parseWriteFileArguments(args);
    if (!parsed.ok) return `write_file (bad arguments: ${parsed.problem})`;
    return describeWrite(parsed.value.path, parsed.value.content);
  },
  plan,
  run,
};
