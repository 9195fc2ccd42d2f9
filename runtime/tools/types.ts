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
   * Real path of TETHER_STATE_DIR. When set, the file tools refuse everything in it (but for a
   * workspace inside it, the systemd layout), and the shell
   * records each running process group in `<stateDir>/tool-processes/` so
   * reapOrphanedToolProcesses can kill it after the runtime died with SIGKILL; when absent,
   * nothing is recorded.
   */
  stateDir?: string;
}

/** What a call will really do, found by looking at the filesystem before anyone is asked. */
export interface ToolPlan {
  /** One line for tool.started and approval.requested, naming the real target when it differs. */
  summary: string;
  /** A person must approve even under `auto` (a write into .git/). */
  alwaysAsk: boolean;
  /**
   * The real target the summary names (the path as given when it could not be resolved); the run
   * writes only there.
   */
  target?: string;
}

/** How this call came to run: the plan shown for it, and whether a person approved that plan. */
export interface ToolCallGrant {
  plan?: ToolPlan;
  approved: boolean;
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
  /**
   * Optional: where the call really goes, before it is asked for or run (write_file resolves
   * symlinks). Without it the plan is describe()'s line. Never throws.
   */
  plan?(args: unknown, ctx: ToolContext): Promise<ToolPlan>;
  /**
   * Runs the tool. Bad arguments and confinement refusals are outcomes (ok: false), not throws.
   * `grant` says what was shown and approved; without one nothing was approved.
   */
  run(args: unknown, ctx: ToolContext, grant?: ToolCallGrant): Promise<ToolOutcome>;
}
