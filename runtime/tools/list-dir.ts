// The list_dir tool: the entries of a workspace directory with their type and size, sorted by name, capped.
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArguments } from './arguments.js';
import { confinePath } from './confine.js';
import { formatBytes, headline, plural } from './measure.js';
import { descriptorPath, openedOutside, realPathOf } from './opened-path.js';
import type { Tool, ToolContext, ToolOutcome } from './types.js';

export interface ListDirArguments {
  path?: string;
}

export function parseListDirArguments(args: unknown) {
  return parseArguments<ListDirArguments>(args, (a) => ({ path: a.optionalString('path') }));
}

/** Entries shown at most, whatever the byte cap; a person or model reading more wants `find` or `ls | grep`. */
export const LIST_DIR_MAX_ENTRIES = 1000;

function refused(path: string, content: string): ToolOutcome {
  return { ok: false, content, summary: `list ${path}: ${headline(content)}` };
}

/** Names sorted by code point, so the order is the same everywhere (no locale). */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function describeEntry(dir: string, name: string): Promise<string> {
  const full = join(dir, name);
  try {
    const info = await lstat(full);
    if (info.isDirectory()) return `${name}/  dir`;
    if (info.isSymbolicLink()) return `${name}  symlink -> ${await readlink(full).catch(() => '?')}`;
    if (info.isFile()) return `${name}  file, ${formatBytes(info.size)}`;
    if (info.isFIFO()) return `${name}  pipe`;
    if (info.isSocket()) return `${name}  socket`;
    return `${name}  device`;
  } catch {
    return `${name}  (vanished while listing)`;
  }
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * The names in the directory open as `dir`. On Linux they are read through /proc/self/fd, so the
 * listing is of the directory that was opened even if its path is swapped for a symlink meanwhile;
 * elsewhere the path is read and its device and inode must be the descriptor's before and after.
 * Entries are looked at below the same base. Undefined: the path no longer names what was opened.
 */
async function namesIn(dir: FileHandle, path: string): Promise<{ names: string[]; base: string } | undefined> {
  if ((await realPathOf(dir.fd)) !== undefined) return { names: await readdir(descriptorPath(dir.fd)), base: descriptorPath(dir.fd) };
  const opened = await dir.stat();
  const still = async () => sameFile(opened, await lstat(path));
  if (!(await still())) return undefined;
  const names = await readdir(path);
  return (await still()) ? { names, base: path } : undefined;
}

async function run(args: unknown, ctx: ToolContext): Promise<ToolOutcome> {
  const parsed = parseListDirArguments(args);
  if (!parsed.ok) {
    return { ok: false, content: `bad arguments: ${parsed.problem}; call list_dir with {"path"?: "<relative directory>"}`, summary: `list_dir: bad arguments (${parsed.problem})` };
  }
  const path = parsed.value.path ?? '.';
  const where = await confinePath(ctx.workspace, path, ctx.stateDir);
  if (!where.ok) return refused(path, where.reason);
  if (!where.exists) return refused(where.shown, `no such directory: ${where.shown}`);

  let dir: FileHandle;
  try {
    // O_NOFOLLOW: a directory swapped for a symlink after the check is refused (ELOOP/ENOTDIR), never listed.
    dir = await open(where.path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' && !(await lstat(where.path).catch(() => undefined))?.isSymbolicLink()) return refused(where.shown, `${where.shown} is a file; use read_file to read it`);
    if (code === 'ELOOP' || code === 'ENOTDIR') return refused(where.shown, `${where.shown} became a symlink while it was being listed; it is not followed`);
    if (code === 'ENOENT') return refused(where.shown, `no such directory: ${where.shown}`);
    if (code === 'EACCES') return refused(where.shown, `${where.shown} cannot be listed: permission denied`);
    return refused(where.shown, `${where.shown} cannot be listed: ${(err as Error).message}`);
  }
  let names: string[];
  const lines: string[] = [];
  try {
    const moved = await openedOutside(dir.fd, ctx.workspace, ctx.stateDir, path);
    if (moved) return refused(where.shown, moved);
    const listing = await namesIn(dir, where.path);
    if (!listing) return refused(where.shown, `${where.shown} was replaced while it was being listed; it is not followed`);
    names = listing.names.sort(byName);
    await describeEntries(names, listing.base, lines, ctx);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES') return refused(where.shown, `${where.shown} cannot be listed: permission denied`);
    return refused(where.shown, `${where.shown} cannot be listed: ${(err as Error).message}`);
  } finally {
    await dir.close().catch(() => {});
  }
  const header = `${where.shown === '.' ? 'the workspace' : `${where.shown}/`}: ${plural(names.length, 'entry', 'entries')}`;
  const more = names.length - lines.length;
  const footer = more > 0 ? `\n[… and ${more} more not shown; use shell (e.g. \`ls ${where.shown} | grep …\`) to narrow down]` : '';
  const body = names.length === 0 ? '\n(empty)' : `\n${lines.join('\n')}`;
  return { ok: true, content: `${header}${body}${footer}`, summary: `list ${where.shown} (${plural(names.length, 'entry', 'entries')})` };
}

/** One line per entry into `lines`, until the entry or byte cap, looked at below `base` (the open directory). */
async function describeEntries(names: readonly string[], base: string, lines: string[], ctx: ToolContext): Promise<void> {
  let bytes = 0;
  for (const name of names.slice(0, LIST_DIR_MAX_ENTRIES)) {
    if (ctx.signal.aborted) break;
    const line = await describeEntry(base, name);
    bytes += Buffer.byteLength(line) + 1;
    if (bytes > ctx.outputMax) break;
    lines.push(line);
  }
}

export const listDirTool: Tool = {
  schema: {
    name: 'list_dir',
    description: 'List a directory of the workspace: each entry with its type (dir, file, symlink) and size, sorted by name. Directories end in /.',
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'Directory relative to the workspace; default "." (the workspace itself).' },
      },
      additionalProperties: false,
    },
  },
  risky: false,
  readonly: true,
  describe(args) {
    const parsed = parseListDirArguments(args);
    if (!parsed.ok) return `list_dir (bad arguments: ${parsed.problem})`;
    return `list ${parsed.value.path ?? '.'}`;
  },
  run,
};
