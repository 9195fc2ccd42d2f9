// One run of a turn: call the model, stream its text, run the tools it asks for, until it stops asking.
import { approvalSafeText } from '../../lib/approval-text.js';
import type { ApprovalMode } from '../../lib/config.js';
import type { Logger } from '../../lib/log.js';
import { DENIED_RESULT, needsApproval, type ApprovalDesk } from '../approvals.js';
import type { RuntimeCounters } from '../metrics.js';
import type { ChatMessage, ModelClient, ToolCall, Usage } from '../models/types.js';
import type { RuntimeStore } from '../store/store.js';
import type { ApprovalDecision } from '../store/types.js';
import type { Tool, ToolCallGrant, ToolContext, ToolPlan } from '../tools/types.js';
import { TetherError } from '../../lib/errors.js';

/** Model calls one turn may make; a model that keeps asking for tools is stopped rather than looping forever. */
export const MAX_STEPS = 25;

/** Everything the loop needs to carry on later; saved as JSON while the turn waits for a person. */
export interface LoopState {
  messages: ChatMessage[];
  /** Tool calls of the last assistant message not yet answered, in order. */
  pendingCalls: ToolCall[];
  steps: number;
  output: string;
  usage?: Usage;
  /** Set while the first pending call waits for this approval. */
  awaitingApproval?: string;
  /** What that approval showed: the run checks the call still goes where the person was told. */
  awaitingPlan?: ToolPlan;
}

export interface LoopDeps {
  store: RuntimeStore;
  model: ModelClient;
  modelName: string;
  /** The thread's approval mode now: read before every tool call and model call, so a stricter mode applies at once. */
  mode: () => ApprovalMode;
  /** The tools offered under a mode. */
  toolsFor: (mode: ApprovalMode) => readonly Tool[];
  toolContext: ToolContext;
  approvals: ApprovalDesk;
  counters: RuntimeCounters;
  logger: Logger;
  maxSteps?: number;
}

export type RunOutcome = { kind: 'completed' } | { kind: 'suspended' };

export class StepLimitError extends TetherError {
  constructor(steps: number) {
    super('step_limit', `the model asked for tools ${steps} times in one turn without finishing, so the turn was stopped`, 'ask for a smaller step, or split the task into several messages');
  }
}

export function addUsage(a: Usage | undefined, b: Usage | undefined): Usage | undefined {
  if (!b) return a;
  if (!a) return { ...b };
  return { prompt_tokens: a.prompt_tokens + b.prompt_tokens, completion_tokens: a.completion_tokens + b.completion_tokens, total_tokens: a.total_tokens + b.total_tokens };
}

function abortIfStopped(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('stopped');
}

function parseArguments(raw: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (raw.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(raw) as unknown };
  } catch (err) {
    return { ok: false, error: `the arguments were not valid JSON (${(err as Error).message}); call the tool again with a JSON object` };
  }
}

/** What a call will do, from the tool's plan() or else its describe() line. Never throws. */
async function planCall(tool: Tool, args: unknown, ctx: ToolContext): Promise<ToolPlan> {
  if (!tool.plan) return { summary: tool.describe(args), alwaysAsk: false };
  try {
    return await tool.plan(args, ctx);
  } catch {
    return { summary: tool.describe(args), alwaysAsk: false };
  }
}

/**
 * Runs the turn from `state` until the model answers without tool calls (completed) or a tool
 * needs a person (suspended, state saved). `decision` answers the approval the state waits for.
 * Throws on model errors and when the signal aborts; `state` then holds the partial output.
 */
export async function runTurn(deps: LoopDeps, threadId: string, turnId: string, state: LoopState, decision?: ApprovalDecision): Promise<RunOutcome> {
  const { store, toolContext } = deps;
  const signal = toolContext.signal;
  const maxSteps = deps.maxSteps ?? MAX_STEPS;
  const answer = (call: ToolCall, content: string) => {
    state.messages.push({ role: 'tool', tool_call_id: call.id, content });
    state.pendingCalls.shift();
  };

  if (state.awaitingApproval !== undefined) {
    const call = state.pendingCalls[0];
    const plan = state.awaitingPlan;
    state.awaitingApproval = undefined;
    state.awaitingPlan = undefined;
    if (call) {
      if (decision === 'approve') answer(call, await runTool(deps, threadId, turnId, call, { ...(plan && { plan }), approved: true }));
      else answer(call, DENIED_RESULT);
    }
  }

  while (true) {
    while (state.pendingCalls.length > 0) {
      abortIfStopped(signal);
      const call = state.pendingCalls[0]!;
      const mode = deps.mode();
      const tool = deps.toolsFor(mode).find((t) => t.schema.name === call.name);
      const args = parseArguments(call.arguments);
      const plan = tool && args.ok ? await planCall(tool, args.value, toolContext) : undefined;
      if (tool && plan && needsApproval(mode, tool, plan)) {
        store.write(() => {
          state.awaitingApproval = deps.approvals.request(threadId, turnId, tool.schema.name, plan.summary);
          state.awaitingPlan = plan;
          store.saveSuspendedState(turnId, state, state.output, state.usage);
        });
        return { kind: 'suspended' };
      }
      answer(call, await runTool(deps, threadId, turnId, call, { ...(plan && { plan }), approved: false }));
    }

    abortIfStopped(signal);
    if (state.steps >= maxSteps) throw new StepLimitError(maxSteps);
    state.steps++;
    let stepText = '';
    const started = performance.now();
    let result;
    try {
      result = await deps.model.complete({
        model: deps.modelName,
        messages: state.messages,
        tools: deps.toolsFor(deps.mode()).map((t) => t.schema),
        signal,
        onDelta: (text) => {
          if (text === '') return;
          // Text of a later step reads as a new paragraph, in the stream as in the output.
          if (stepText === '' && state.output !== '' && !state.output.endsWith('\n')) {
            state.output += '\n\n';
            store.appendDelta(threadId, turnId, '\n\n');
          }
          stepText += text;
          state.output += text;
          store.appendDelta(threadId, turnId, text);
        },
      });
    } catch (err) {
      if (!signal.aborted) deps.counters.modelErrors++;
      throw err;
    } finally {
      deps.counters.modelLatency.observe((performance.now() - started) / 1000);
    }
    // A client that returns text without streaming it still counts as the turn's output.
    if (stepText === '' && result.text !== '') {
      if (state.output !== '' && !state.output.endsWith('\n')) state.output += '\n\n';
      state.output += result.text;
      store.appendDelta(threadId, turnId, result.text);
    }
    state.usage = addUsage(state.usage, result.usage);
    state.messages.push(result.toolCalls.length > 0 ? { role: 'assistant', content: result.text || null, tool_calls: result.toolCalls } : { role: 'assistant', content: result.text });
    if (result.toolCalls.length === 0) return { kind: 'completed' };
    state.pendingCalls = [...result.toolCalls];
  }
}

/** What the model is told when it calls a tool that changes things in a read-only thread (it may have become one mid-turn). */
const READONLY_RESULT = 'not run: this conversation is read-only now (approval mode readonly), so shell and write_file are not available. Do not try again; tell the person what you wanted to do.';

/** A call that does not run, with its tool.started/finished pair so people see it was refused. */
function refuseCall(deps: LoopDeps, threadId: string, turnId: string, call: ToolCall, started: string, finished: string): void {
  const tool = approvalSafeText(call.name);
  deps.store.write(() => {
    deps.store.appendEvent('tool.started', threadId, turnId, { tool, summary: approvalSafeText(started) });
    deps.store.appendEvent('tool.finished', threadId, turnId, { tool, ok: false, summary: approvalSafeText(finished) });
  });
}

/**
 * Runs one tool call with tool.started/finished events; whatever happens, the model gets a tool
 * message. The mode is read again here: a call approved (or planned) before the thread became
 * readonly does not run. Summaries are made approval-safe here, whatever tool produced them.
 */
async function runTool(deps: LoopDeps, threadId: string, turnId: string, call: ToolCall, grant: ToolCallGrant): Promise<string> {
  const { store } = deps;
  const mode = deps.mode();
  const offered = deps.toolsFor(mode);
  const tool = offered.find((t) => t.schema.name === call.name);
  if (!tool) {
    const elsewhere = mode === 'readonly' ? deps.toolsFor('auto').find((t) => t.schema.name === call.name) : undefined;
    if (elsewhere) {
      // People see what did not run, as they would have seen it run.
      const args = parseArguments(call.arguments);
      refuseCall(deps, threadId, turnId, call, args.ok ? elsewhere.describe(args.value) : `${call.name} not run`, 'not run: the thread is read-only');
      return READONLY_RESULT;
    }
    const names = offered.map((t) => t.schema.name).join(', ') || 'none';
    refuseCall(deps, threadId, turnId, call, `unknown tool ${call.name}`, `no tool named ${call.name} here`);
    return `error: no tool named ${call.name} is available in this conversation (available: ${names})`;
  }
  const args = parseArguments(call.arguments);
  const summary = approvalSafeText(grant.plan?.summary ?? (args.ok ? tool.describe(args.value) : `${call.name} with arguments that are not JSON`));
  store.appendEvent('tool.started', threadId, turnId, { tool: call.name, summary });
  let outcome;
  if (!args.ok) outcome = { ok: false, content: `error: ${args.error}`, summary: 'arguments were not valid JSON' };
  else {
    deps.counters.toolRuns++;
    try {
      outcome = await tool.run(args.value, deps.toolContext, grant);
    } catch (err) {
      deps.logger.error('tool threw instead of returning an outcome', { tool: call.name, err });
      outcome = { ok: false, content: `error: the tool failed (${(err as Error).message})`, summary: 'the tool failed' };
    }
  }
  store.appendEvent('tool.finished', threadId, turnId, { tool: call.name, ok: outcome.ok, summary: approvalSafeText(outcome.summary) });
  abortIfStopped(deps.toolContext.signal);
  return outcome.content;
}
