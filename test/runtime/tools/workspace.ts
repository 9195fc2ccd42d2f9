// Temporary workspaces for the tool tests: a real directory (symlinks resolved) plus a sibling "outside".
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ToolContext } from '../../../runtime/tools/types.js';

export interface TempWorkspace {
  root: string;
  workspace: string;
  outside: string;
  remove(): void;
}

export function makeWorkspace(): TempWorkspace {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'tether-tools-')));
  const workspace = join(root, 'workspace');
  const outside = join(root, 'outside');
  mkdirSync(workspace);
  mkdirSync(outside);
  return { root, workspace, outside, remove: () => rmSync(root, { recursive: true, force: true }) };
}

export function contextFor(workspace: string, overrides: Partial<ToolContext> = {}): ToolContext {
  return { workspace, signal: new AbortController().signal, shellTimeoutMs: 10_000, outputMax: 64 * 1024, ...overrides };
}

/** True once the process is gone or a zombie (reaped later by whoever inherited it). */
export function processIsGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Awaits a condition the code under test brings about, failing with `what` after the deadline. */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
