// Which tools a thread is offered, by approval mode: one table, so adding a tool is one row.
import type { ApprovalMode } from '../../lib/config.js';
import { scrubRegisteredSecrets } from '../../lib/log.js';
import { listDirTool } from './list-dir.js';
import { readFileTool } from './read-file.js';
import { shellTool } from './shell.js';
import type { Tool, ToolContext } from './types.js';
import { writeFileTool } from './write-file.js';

/**
 * The same tool, with Tether's own secrets (the values registered with registerSecret) replaced by
 * [redacted] in everything it says: describe() and plan() (tool.started, approvals), and an outcome's content
 * (the model) and summary (tool.finished). A `cat runtime.token` or an `env` run by hand then shows
 * the model nothing it could leak. Done here once, so no tool can forget it.
 */
export function withSecretsScrubbed(tool: Tool): Tool {
  const plan = tool.plan?.bind(tool);
  return {
    schema: tool.schema,
    risky: tool.risky,
    readonly: tool.readonly,
    describe: (args) => scrubRegisteredSecrets(tool.describe(args)),
    ...(plan && {
      async plan(args: unknown, ctx: ToolContext) {
        const planned = await plan(args, ctx);
        return { ...planned, summary: scrubRegisteredSecrets(planned.summary) };
      },
    }),
    async run(args, ctx, grant) {
      let outcome;
      try {
        outcome = await tool.run(args, ctx, grant);
      } catch (err) {
        // The runtime core shows a thrown error's message to the model, so it is scrubbed too.
        if (err instanceof Error) err.message = scrubRegisteredSecrets(err.message);
        throw err;
      }
      return { ok: outcome.ok, content: scrubRegisteredSecrets(outcome.content), summary: scrubRegisteredSecrets(outcome.summary) };
    },
  };
}

/** Every tool, in the order offered to the model. */
export const TOOLS: readonly Tool[] = [shellTool, readFileTool, writeFileTool, listDirTool].map(withSecretsScrubbed);

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
