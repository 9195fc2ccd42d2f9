// Which tools a thread is offered, by approval mode: one table, so adding a tool is one row.
import type { ApprovalMode } from '../../lib/config.js';
import { listDirTool } from './list-dir.js';
import { readFileTool } from './read-file.js';
import { shellTool } from './shell.js';
import type { Tool } from './types.js';
import { writeFileTool } from './write-file.js';

/** Every tool, in the order offered to the model. */
export const TOOLS: readonly Tool[] = [shellTool, readFileTool, writeFileTool, listDirTool];

/**
 * `ask` and `auto` offer every tool (under ask the runtime core asks a person before a risky one);
 * `readonly` offers only the tools marked readonly, so shell and writes are never even proposed.
 */
export function toolsFor(mode: ApprovalMode): Tool[] {
  return mode === 'readonly' ? TOOLS.filter((t) => t.readonly) : [...TOOLS];
}

/** The tool a model's call names, among those offered; undefined for a name it made up. */
export function findTool(tools: readonly Tool[], name: string): Tool | undefined {
  return tools.find((t) => t.schema.name === name);
}
