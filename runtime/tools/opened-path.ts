// What an open descriptor really is, by /proc/self/fd on Linux: checked after opening, so no path swapped in meanwhile can fool a tool.
import { readlink } from 'node:fs/promises';
import { relative } from 'node:path';
import { isInside } from './confine.js';
import { protectedReason, protectedRefusal } from './protected-paths.js';

/** The path through which the open descriptor `fd` itself is reached (Linux); a directory's entries resolve below it. */
export function descriptorPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

/** Where `fd` really is, as the kernel names it; undefined without /proc (not Linux), where the check is skipped. */
export async function realPathOf(fd: number): Promise<string | undefined> {
  try {
    const target = await readlink(descriptorPath(fd));
    return target.startsWith('/') ? target : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why what `fd` opened may not be used, or undefined when it may: it lies outside the workspace or
 * is protected, which can only happen when a directory on the way was swapped for a symlink
 * between the confinement check and the open.
 */
export async function openedOutside(fd: number, workspace: string, stateDir: string | undefined, requested: string): Promise<string | undefined> {
  const real = await realPathOf(fd);
  if (real === undefined) return undefined;
  const what = protectedReason(real, stateDir, workspace);
  if (what !== undefined) return protectedRefusal(requested, what, isInside(workspace, real) ? relative(workspace, real) || '.' : real);
  if (!isInside(workspace, real)) return `path ${requested} moved outside the workspace while it was being opened (a symlink was swapped in); nothing was read or written`;
  return undefined;
}
