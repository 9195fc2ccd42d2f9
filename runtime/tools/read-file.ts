// The read_file tool: a text file of the workspace, whole or a range of lines, capped, binary refused.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dropSecretFragmentsAtCut } from '../../lib/log.js';
import { parseArguments } from './arguments.js';
import { confinePath } from './confine.js';
import { formatBytes, headline, plural, utf8CutBefore } from './measure.js';
import { openedOutside } from './opened-path.js';
import type { Tool, ToolContext, ToolOutcome } from './types.js';

export interface ReadFileArguments {
  path: string;
  /** First line to show, 1-based. */
  offset?: number;
  /** How many lines to show at most. */
  limit?: number;
}

export function parseReadFileArguments(args: unknown) {
  return parseArguments<ReadFileArguments>(args, (a) => ({
    path: a.requiredString('path', { nonEmpty: true }),
    offset: a.optionalPositiveNumber('offset', { integer: true }),
    limit: a.optionalPositiveNumber('limit', { integer: true }),
  }));
}

// Git's rule of thumb: a NUL byte near the start means binary.
const BINARY_SNIFF_BYTES = 8000;
const CHUNK_BYTES = 64 * 1024;

function refused(path: string, content: string): ToolOutcome {
  return { ok: false, content, summary: `read ${path}: ${headline(content)}` };
}

interface LineSlice {
  text: string;
  firstLine: number;
  /** Last line shown whole (firstLine - 1 when none). */
  lastLine: number;
  /** Why reading stopped before the end of the file, if it did. */
  stop: 'limit' | 'cap' | 'long-line' | undefined;
  /** Lines in the file, known when it was read to the end. */
  linesInFile: number | undefined;
  binary: boolean;
}

/**
 * Reads lines [firstLine, firstLine + limit) of an open file into at most `cap` bytes, cutting at a
 * line boundary unless the first line shown alone is longer than the cap. Memory stays within cap.
 */
async function readLines(file: FileHandle, size: number, firstLine: number, limit: number, cap: number, signal: AbortSignal): Promise<LineSlice> {
  const endLine = firstLine + limit;
  const kept: Buffer[] = [];
  let keptBytes = 0;
  // Where the line being read began in `kept`, to drop a line that does not fit whole.
  let lineStartIndex = 0;
  let lineStartBytes = 0;
  let line = 1;
  let consumed = 0;
  let stop: LineSlice['stop'];
  let lastByte: number | undefined;
  const buf = Buffer.alloc(CHUNK_BYTES);

  reading: while (!signal.aborted) {
    const { bytesRead } = await file.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    const chunk = buf.subarray(0, bytesRead);
    lastByte = chunk[chunk.length - 1];
    if (consumed === 0 && chunk.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
      return { text: '', firstLine, lastLine: firstLine - 1, stop: undefined, linesInFile: undefined, binary: true };
    }
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(10, pos);
      const end = nl === -1 ? chunk.length : nl + 1;
      if (line >= firstLine && line < endLine) {
        const piece = chunk.subarray(pos, end);
        if (keptBytes + piece.length > cap) {
          if (lineStartBytes === 0) {
            kept.push(Buffer.from(piece.subarray(0, utf8CutBefore(piece, cap - keptBytes))));
            stop = 'long-line';
          } else {
            kept.length = lineStartIndex;
            stop = 'cap';
          }
          break reading;
        }
        kept.push(Buffer.from(piece));
        keptBytes += piece.length;
      }
      pos = end;
      if (nl !== -1) {
        line++;
        lineStartIndex = kept.length;
        lineStartBytes = keptBytes;
        if (line >= endLine) {
          if (consumed + pos < size) stop = 'limit';
          break reading;
        }
      }
    }
    consumed += bytesRead;
  }
  const whole = Buffer.concat(kept).toString('utf8');
  // A line cut at the cap may end inside a secret, which scrubbing could then no longer recognise.
  const text = stop === 'long-line' ? dropSecretFragmentsAtCut(whole, '').before : whole;
  if (stop !== undefined) return { text, firstLine, lastLine: line - 1, stop, linesInFile: undefined, binary: false };
  // `line` is one past the last newline; a last line without a newline is a line too.
  const linesInFile = lastByte === undefined ? 0 : lastByte === 10 ? line - 1 : line;
  return { text, firstLine, lastLine: Math.min(linesInFile, endLine - 1), stop, linesInFile, binary: false };
}

async function run(args: unknown, ctx: ToolContext): Promise<ToolOutcome> {
  const parsed = parseReadFileArguments(args);
  if (!parsed.ok) {
    return { ok: false, content: `bad arguments: ${parsed.problem}; call read_file with {"path": "<relative path>", "offset"?: <first line>, "limit"?: <lines>}`, summary: `read_file: bad arguments (${parsed.problem})` };
  }
  const { path, offset = 1, limit = Number.MAX_SAFE_INTEGER } = parsed.value;
  const where = await confinePath(ctx.workspace, path, ctx.stateDir);
  if (!where.ok) return refused(path, where.reason);
  if (!where.exists) return refused(where.shown, `no such file: ${where.shown} (list_dir shows what exists)`);

  let file: FileHandle;
  try {
    // O_NOFOLLOW: a symlink swapped in after confinement is refused, not followed. O_NONBLOCK: a FIFO cannot hang us.
    file = await open(where.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return refused(where.shown, `no such file: ${where.shown} (list_dir shows what exists)`);
    if (code === 'ELOOP') return refused(where.shown, `${where.shown} is a symlink; it is not followed`);
    if (code === 'EACCES') return refused(where.shown, `${where.shown} cannot be read: permission denied`);
    return refused(where.shown, `${where.shown} cannot be opened: ${(err as Error).message}`);
  }
  try {
    const moved = await openedOutside(file.fd, ctx.workspace, ctx.stateDir, path);
    if (moved) return refused(where.shown, moved);
    const stat = await file.stat();
    if (stat.isDirectory()) return refused(where.shown, `${where.shown} is a directory; use list_dir to see what it holds`);
    if (!stat.isFile()) return refused(where.shown, `${where.shown} is not a regular file (a device, socket or pipe); it is not read`);
    // A second name may be outside the workspace (or be .env): the path alone cannot prove where the file lives.
    if (stat.nlink > 1) {
      return refused(where.shown, `${where.shown} has ${stat.nlink} hard links, so it may be a file from outside the workspace (or a protected one) under a second name; read_file does not read it. If it is yours, use shell (e.g. \`cat ${where.shown}\`)`);
    }
    const slice = await readLines(file, stat.size, offset, limit, ctx.outputMax, ctx.signal);
    if (slice.binary) {
      return refused(where.shown, `${where.shown} looks binary (it has NUL bytes; ${formatBytes(stat.size)}); read_file only reads text, use shell (e.g. \`file\`, \`xxd | head\`) to inspect it`);
    }
    if (stat.size === 0) return { ok: true, content: '(empty file)', summary: `read ${where.shown} (empty)` };
    if (slice.text === '' && slice.stop === undefined) {
      const n = slice.linesInFile ?? 0;
      return { ok: false, content: `${where.shown} has ${n} lines; offset ${offset} is past the end`, summary: `read ${where.shown}: offset past the end` };
    }
    const range = `lines ${slice.firstLine}–${slice.lastLine}`;
    let note = '';
    if (slice.stop === 'limit') note = `[${range} shown; the file goes on: read on with offset ${slice.lastLine + 1}]`;
    else if (slice.stop === 'cap') note = `[${range} of a ${formatBytes(stat.size)} file shown; stopped at the ${formatBytes(ctx.outputMax)} output limit: read on with offset ${slice.lastLine + 1}]`;
    else if (slice.stop === 'long-line') note = `[line ${slice.lastLine + 1} is longer than the ${formatBytes(ctx.outputMax)} output limit and was cut; use shell (e.g. \`cut -c1-2000\`) to see the rest]`;
    const content = note ? `${slice.text}${slice.text.endsWith('\n') ? '' : '\n'}${note}` : slice.text;
    const whole = slice.stop === undefined && offset === 1;
    const shownLines = whole ? plural(slice.lastLine, 'line') : slice.stop === 'long-line' ? `line ${slice.lastLine + 1}, cut` : range;
    return { ok: true, content, summary: `read ${where.shown} (${shownLines}, ${formatBytes(stat.size)})` };
  } catch (err) {
    return refused(where.shown, `${where.shown} cannot be read: ${(err as Error).message}`);
  } finally {
    await file.close().catch(() => {});
  }
}

export const readFileTool: Tool = {
  schema: {
    name: 'read_file',
    description:
      'Read a text file of the workspace, exactly as stored (no line numbers added). Large files are cut at the output limit with a note saying which offset to read on from. Binary files are refused.',
    parameters: {
      type: 'object',
      properties: {
        path: { type: 'string', description: 'Path relative to the workspace, e.g. "src/main.ts".' },
        offset: { type: 'integer', minimum: 1, description: 'First line to read (1-based). Default 1.' },
        limit: { type: 'integer', minimum: 1, description: 'Most lines to read. Default: as many as fit.' },
      },
      required: ['path'],
      additionalProperties: false,
    },
  },
  risky: false,
  readonly: true,
  describe(args) {
    const parsed = parseReadFileArguments(args);
    if (!parsed.ok) return `read_file (bad arguments: ${parsed.problem})`;
    const { path, offset, limit } = parsed.value;
    const from = offset ?? 1;
    const range = offset === undefined && limit === undefined ? '' : limit === undefined ? ` from line ${from}` : ` lines ${from}–${from + limit - 1}`;
    return `read ${path}${range}`;
  },
  run,
};
