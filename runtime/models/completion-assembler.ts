// Builds one completion from streamed chat.completion.chunk objects: text, tool calls from fragments, usage, finish reason.
import type { CompletionResult, ToolCall, Usage } from './types.js';

/** What one chunk contributed. `error` is an error object a provider put inside the stream. */
export interface ChunkOutcome {
  text: string;
  error?: { message: string; status?: number };
}

interface PartialToolCall {
  id: string;
  name: string;
  arguments: string;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readUsage(v: unknown): Usage | undefined {
  if (!isObject(v)) return undefined;
  const prompt = Number(v.prompt_tokens ?? 0);
  const completion = Number(v.completion_tokens ?? 0);
  if (!Number.isFinite(prompt) || !Number.isFinite(completion)) return undefined;
  const total = Number(v.total_tokens ?? prompt + completion);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: Number.isFinite(total) ? total : prompt + completion };
}

function errorOf(v: unknown): ChunkOutcome['error'] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return { message: v };
  if (!isObject(v)) return { message: String(v) };
  const message = typeof v.message === 'string' ? v.message : JSON.stringify(v);
  // OpenRouter puts the HTTP status it would have answered into `code`.
  const status = typeof v.code === 'number' ? v.code : typeof v.status === 'number' ? v.status : undefined;
  return status !== undefined ? { message, status } : { message };
}

export class CompletionAssembler {
  private text = '';
  /** Tool calls in the order they appeared; the wire index maps onto them through slotByIndex. */
  private readonly calls: PartialToolCall[] = [];
  private readonly slotByIndex = new Map<number, number>();
  private usage: Usage | undefined;
  private finishReason: string | null = null;
  /** Chunks that looked like completion chunks; zero at the end means the server spoke something else. */
  chunks = 0;

  /** Takes one parsed `data:` object; returns the text to show now. Never throws. */
  accept(chunk: unknown): ChunkOutcome {
    if (!isObject(chunk)) return { text: '' };
    const error = errorOf(chunk.error);
    if (error) return { text: '', error };
    this.chunks++;

    const usage = readUsage(chunk.usage);
    if (usage) this.usage = usage;

    let text = '';
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    for (const choice of choices) {
      if (!isObject(choice)) continue;
      // Only the first choice is ours (n=1); some servers omit `index`.
      if (choice.index !== undefined && choice.index !== 0) continue;
      const choiceUsage = readUsage(choice.usage); // Moonshot reports usage inside the choice
      if (choiceUsage) this.usage = choiceUsage;
      // A non-streamed answer (server ignored stream: true) carries `message` instead of `delta`.
      const delta = isObject(choice.delta) ? choice.delta : isObject(choice.message) ? choice.message : undefined;
      if (delta) {
        if (typeof delta.content === 'string') text += delta.content;
        if (Array.isArray(delta.tool_calls)) for (const fragment of delta.tool_calls) this.acceptToolFragment(fragment);
      }
      if (typeof choice.finish_reason === 'string' && choice.finish_reason !== '') this.finishReason = choice.finish_reason;
    }
    this.text += text;
    return { text };
  }

  private acceptToolFragment(fragment: unknown): void {
    if (!isObject(fragment)) return;
    const fn = isObject(fragment.function) ? fragment.function : {};
    const id = typeof fragment.id === 'string' && fragment.id !== '' ? fragment.id : undefined;
    // Old Ollama versions put the index inside `function`.
    const wireIndex = typeof fragment.index === 'number' ? fragment.index : typeof fn.index === 'number' ? fn.index : undefined;
    let slot: number | undefined;
    if (wireIndex !== undefined) {
      slot = this.slotByIndex.get(wireIndex);
      // Ollama reuses index 0 for every call of a reply (ollama#15457): a different id there is a new call.
      const current = slot === undefined ? undefined : this.calls[slot];
      if (current && id !== undefined && current.id !== '' && current.id !== id) slot = undefined;
    } else if (id !== undefined) {
      // No index at all (some Gemini and llama.cpp versions): a known id continues its call, a new one starts one.
      const known = this.calls.findIndex((c) => c.id === id);
      slot = known === -1 ? undefined : known;
    } else if (this.calls.length > 0) {
      slot = this.calls.length - 1;
    }
    if (slot === undefined) {
      slot = this.calls.length;
      this.calls.push({ id: '', name: '', arguments: '' });
    }
    if (wireIndex !== undefined) this.slotByIndex.set(wireIndex, slot);
    const call = this.calls[slot]!;
    if (id && !call.id) call.id = id;
    if (typeof fn.name === 'string' && fn.name !== '') {
      // Most servers send the name once; some repeat it whole in every fragment.
      if (call.name !== fn.name) call.name += fn.name;
    }
    const args = fn.arguments;
    if (typeof args === 'string') call.arguments += args;
    else if (isObject(args)) call.arguments += JSON.stringify(args);
  }

  /** Calls without a name are dropped (nothing can run them); empty arguments mean "no arguments", sent on as {}. */
  result(): CompletionResult {
    const toolCalls: ToolCall[] = [...this.calls.entries()]
      .filter(([, c]) => c.name !== '')
      .map(([index, c]) => ({ id: c.id || `call_${index}`, name: c.name, arguments: c.arguments.trim() === '' ? '{}' : c.arguments }));
    return { text: this.text, toolCalls, ...(this.usage ? { usage: this.usage } : {}), finishReason: this.finishReason };
  }
}
