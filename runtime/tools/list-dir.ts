// The list_dir tool: the entries of a workspace directory with their type and size, sorted by name, capped.
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArguments } from './arguments.js';
import { confinePath } from './confine.js';
import { formatBytes, headline, plural } from './measure.js';
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

async function run(args: unknown, ctx: ToolContext): Promise<ToolOutcome> {
  const parsed = parseListDirArguments(args);
  if (!parsed.ok) {
    return { ok: false, content: `bad arguments: ${parsed.problem}; call list_dir with {"path"?: "<relative directory>"}`, summary: `list_dir: bad arguments (${parsed.problem})` };
  }
  const path = parsed.value.path ?? '.';
  const where = await confinePath(ctx.workspace, path);
  if (!where.ok) return refused(path, where.reason);
  if (!where.exists) return refused(where.shown, `no such directory: ${where.shown}`);

  let names: string[];
  try {
    names = (await readdir(where.path)).sort(byName);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') return refused(where.shown, `${where.shown} is a file; use read_file to read it`);
    if (code === 'EACCES') return refused(where.shown, `${where.shown} cannot be listed: permission denied`);
    return refused(where.shown, `${where.shown} cannot be listed: ${(err as Error).message}`);
  }

  const lines: string[] = [];
  let bytes = 0;
  for (const name of names.slice(0, LIST_DIR_MAX_ENTRIES)) {
    if (ctx.signal.aborted) break;
    const line = await describeEntry(where.path, name);
    bytes += Buffer.byteLength(line) + 1;
    if (bytes > ctx.outputMax) break;
    lines.push(line);
  }
  const header = `${where.shown === '.' ? 'the workspace' : `${where.shown}/`}: ${plural(names.length, 'entry', 'entries')}`;
  const more = names.length - lines.length;
  const footer = more > 0 ? `\n[… and ${more} more not shown; use shell (e.g. \`ls ${where.shown} | grep …\`) to narrow down]` : '';
  const body = names.length === 0 ? '\n(empty)' : `\n${lines.join('\n')}`;
  return { ok: true, content: `${header}${body}${footer}`, summary: `list ${where.shown} (${plural(names.length, 'entry', 'entries')})` };
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
