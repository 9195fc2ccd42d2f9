// The write_file tool: creates or replaces a file of the workspace atomically (temp file + rename in the same directory).
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseArguments } from './arguments.js';
import { confinePath, isInside } from './confine.js';
import { countLines, formatBytes, headline, oneLine, plural } from './measure.js';
import type { Tool, ToolContext, ToolOutcome } from './types.js';

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

/** Makes the file's directory durable after a rename; best effort (some filesystems refuse fsync on directories). */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // durability of the rename is a bonus, not a condition of success
  }
}

async function run(args: unknown, ctx: ToolContext): Promise<ToolOutcome> {
  const parsed = parseWriteFileArguments(args);
  if (!parsed.ok) {
    return { ok: false, content: `bad arguments: ${parsed.problem}; call write_file with {"path": "<relative path>", "content": "<the whole new file>"}`, summary: `write_file: bad arguments (${parsed.problem})` };
  }
  const { path, content } = parsed.value;
  if (ctx.signal.aborted) return refused(path, 'not written: the turn was already stopped');
  const where = await confinePath(ctx.workspace, path);
  if (!where.ok) return refused(path, where.reason);
  const target = where.path;
  const dir = dirname(target);

  let previousMode: number | undefined;
  let previousSize: number | undefined;
  if (where.exists) {
    const existing = await stat(target).catch(() => undefined);
    if (existing?.isDirectory()) return refused(where.shown, `${where.shown} is a directory; write to a file path inside it`);
    if (existing && !existing.isFile()) return refused(where.shown, `${where.shown} is not a regular file; it is not replaced`);
    previousMode = existing ? existing.mode & 0o7777 : undefined;
    previousSize = existing?.size;
  }

  try {
    await mkdir(dir, { recursive: true });
    // Check again after creating directories: a symlink swapped in meanwhile must not carry the write outside.
    const realDir = await realpath(dir);
    if (realDir !== dir || !isInside(ctx.workspace, realDir)) return refused(where.shown, `path ${path} is outside the workspace (its directory changed while writing); file tools only work inside ${ctx.workspace}`);
  } catch (err) {
    if (code(err) === 'EEXIST' || code(err) === 'ENOTDIR') return refused(where.shown, `cannot create the directory of ${where.shown}: a file is in the way`);
    return refused(where.shown, `cannot create the directory of ${where.shown}: ${(err as Error).message}`);
  }

  const temp = join(dir, `.${basename(target)}.${randomBytes(6).toString('hex')}.tether-tmp`);
  try {
    // O_EXCL + O_NOFOLLOW: the temp file is new, never something planted under its name.
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
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => {});
    if (code(err) === 'ENOSPC') return refused(where.shown, `${where.shown} was not written: the disk is full`);
    if (code(err) === 'EACCES' || code(err) === 'EPERM') return refused(where.shown, `${where.shown} was not written: permission denied`);
    return refused(where.shown, `${where.shown} was not written: ${(err as Error).message}`);
  }
  await syncDirectory(dir);

  const bytes = Buffer.byteLength(content);
  const what = `${plural(countLines(content), 'line')}, ${formatBytes(bytes)}`;
  const verb = previousSize === undefined ? 'created' : 'replaced';
  const was = previousSize === undefined ? '' : `; it had ${formatBytes(previousSize)}`;
  return { ok: true, content: `${verb} ${where.shown} (${what}${was})`, summary: `${verb} ${where.shown} (${what})` };
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
  run,
};
