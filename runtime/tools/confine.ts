// Path confinement: every path a file tool touches resolves, symlinks included, to a place inside the workspace.
import { lstat, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { protectedReason, protectedRefusal } from './protected-paths.js';

export type Confinement =
  | {
      ok: true;
      /** Real path to operate on: existing part resolved through symlinks, the rest appended. */
      path: string;
      /** The path as the workspace sees it ('.' for its root), for messages and summaries. */
      shown: string;
      /** Whether the path exists now (otherwise `path` is where it would be created). */
      exists: boolean;
    }
  | { ok: false; reason: string };

/** True when `path` is `root` or below it; both absolute and normalised. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

export type LexicalTarget = { ok: true; path: string; shown: string; absolute: boolean } | { ok: false; reason: string };

/**
 * Where `requested` points before any symlink is looked at, or why it cannot be used. Pure.
 * Relative paths that climb out with `..` are refused here; absolute paths are decided after
 * symlinks are resolved, because the workspace may be reached through a symlinked alias.
 */
export function lexicalTarget(workspace: string, requested: string): LexicalTarget {
  if (requested.includes('\0')) return { ok: false, reason: 'path contains a NUL character' };
  if (requested === '~' || requested.startsWith('~/')) {
    return { ok: false, reason: `path ${requested} starts with ~, which is not expanded; use a path relative to the workspace` };
  }
  const path = resolve(workspace, requested === '' ? '.' : requested);
  const absolute = isAbsolute(requested);
  if (!absolute && !isInside(workspace, path)) {
    return { ok: false, reason: `path ${requested} is outside the workspace; use a path relative to the workspace without climbing above it` };
  }
  return { ok: true, path, shown: isInside(workspace, path) ? relative(workspace, path) || '.' : path, absolute };
}

function outside(requested: string, workspace: string, via?: string): { ok: false; reason: string } {
  const how = via ? ` (${via})` : '';
  return { ok: false, reason: `path ${requested} is outside the workspace${how}; file tools only work inside ${workspace}, use a path relative to it` };
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** The refusal for a protected real path, or undefined; names the real target when a symlink led there. */
function refuseProtected(workspace: string, requested: string, lexicalPath: string, real: string, stateDir: string | undefined): { ok: false; reason: string } | undefined {
  const what = protectedReason(real, stateDir, workspace);
  if (what === undefined) return undefined;
  const via = real === lexicalPath ? undefined : isInside(workspace, real) ? relative(workspace, real) || '.' : real;
  return { ok: false, reason: protectedRefusal(requested, what, via) };
}

/**
 * Confines `requested` to `workspace` (a real path). Existing paths are resolved with realpath;
 * a path not yet created is resolved through its nearest existing ancestor, so a symlinked parent
 * pointing outside is caught. Symlinks that lead outside are refused, never followed. Paths that
 * are, or lead to, a protected file (.env, the state dir `stateDir`, a real path) are refused
 * before anything is opened. Never throws.
 */
export async function confinePath(workspace: string, requested: string, stateDir?: string): Promise<Confinement> {
  const lexical = lexicalTarget(workspace, requested);
  if (!lexical.ok) return lexical;
  const named = protectedReason(lexical.path, stateDir, workspace);
  if (named !== undefined) return { ok: false, reason: protectedRefusal(requested, named) };

  try {
    const real = await realpath(lexical.path);
    const refused = refuseProtected(workspace, requested, lexical.path, real, stateDir);
    if (refused) return refused;
    if (!isInside(workspace, real)) return outside(requested, workspace, lexical.absolute ? undefined : 'through a symlink');
    return { ok: true, path: real, shown: lexical.shown, exists: true };
  } catch (err) {
    if (code(err) === 'ELOOP') return { ok: false, reason: `path ${requested} is a symlink loop` };
    if (code(err) === 'EACCES') return { ok: false, reason: `path ${requested} cannot be resolved: permission denied` };
    if (code(err) !== 'ENOENT' && code(err) !== 'ENOTDIR') return { ok: false, reason: `path ${requested} cannot be resolved: ${(err as Error).message}` };
  }

  // Not there (yet). A dangling symlink would be followed by a write to wherever it points: refuse it.
  try {
    if ((await lstat(lexical.path)).isSymbolicLink()) {
      return { ok: false, reason: `path ${requested} is a symlink to something that does not exist; it is not followed` };
    }
  } catch {
    // ENOENT: nothing at the path itself, as expected
  }

  const missing: string[] = [basename(lexical.path)];
  for (let dir = dirname(lexical.path); ; dir = dirname(dir)) {
    try {
      const real = await realpath(dir);
      const path = join(real, ...missing.reverse());
      const refused = refuseProtected(workspace, requested, lexical.path, path, stateDir);
      if (refused) return refused;
      if (!isInside(workspace, real)) return outside(requested, workspace, lexical.absolute ? undefined : 'through a symlinked parent directory');
      return { ok: true, path, shown: lexical.shown, exists: false };
    } catch (err) {
      if (code(err) !== 'ENOENT' && code(err) !== 'ENOTDIR') return { ok: false, reason: `path ${requested} cannot be resolved: ${(err as Error).message}` };
      // A dangling symlink as a parent would be created through by mkdir -p: refuse it too.
      try {
        if ((await lstat(dir)).isSymbolicLink()) return { ok: false, reason: `path ${requested} goes through a symlink to something that does not exist; it is not followed` };
      } catch {
        // ENOENT: keep climbing
      }
      if (dirname(dir) === dir) return { ok: false, reason: `path ${requested} cannot be resolved` };
      missing.push(basename(dir));
    }
  }
}
