// What the turn engine needs from a tool: a schema for the model, a summary for a person, and a run.
import type { ToolSchema } from '../models/types.js';

export interface ToolContext {
  /** Real path (symlinks resolved) of TETHER_WORKSPACE. */
  workspace: string;
  /** Aborted on cancel, timeout or shutdown: kill child processes, stop reading. */
  signal: AbortSignal;
  shellTimeoutMs: number;
  outputMax: number;
  /**
   * TETHER_STATE_DIR. When set, the shell records each running process group in
   * `<stateDir>/tool-processes/` so reapOrphanedToolProcesses can kill it after the runtime died
   * with SIGKILL; when absent, nothing is recorded.
   */
  stateDir?: string;
}

export interface ToolOutcome {
  ok: boolean;
  /** What the model is told (output, or the error in words the model can act on). */
  content: string;
  /** One line for people: tool.finished {summary}. */
  summary: string;
}

export interface Tool {
  schema: ToolSchema;
  /** Needs a person's approval under TETHER_APPROVAL=ask (shell, writes). */
  risky: boolean;
  /** Offered under TETHER_APPROVAL=readonly. */
  readonly: boolean;
  /**
   * One line for tool.started and approval.requested: the exact command or path, plus a content
   * summary for writes. Never throws; bad arguments are described as such.
   */
  describe(args: unknown): string;
  /** Runs the tool. Bad arguments and confinement refusals are outcomes (ok: false), not throws. */
  run(args: unknown, ctx: ToolContext): Promise<ToolOutcome>;
}
