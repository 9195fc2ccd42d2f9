// What the turn engine needs from a model: one streaming chat-completion call with tool calls.

export interface ToolCall {
  id: string;
  name: string;
  /** The raw JSON text of the arguments, as the model produced it. */
  arguments: string;
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

/** A tool as offered to the model (OpenAI "function" shape without the wrapper). */
export interface ToolSchema {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export type { Usage } from '../../lib/api-types.js';
import type { Usage } from '../../lib/api-types.js';

export interface CompletionRequest {
  model: string;
  messages: ChatMessage[];
  tools: ToolSchema[];
  /** Aborts the HTTP request and any retry wait (cancel, timeout, shutdown). */
  signal: AbortSignal;
  /** Called with each piece of assistant text as it arrives. */
  onDelta: (text: string) => void;
}

export interface CompletionResult {
  text: string;
  toolCalls: ToolCall[];
  usage?: Usage;
  finishReason: string | null;
}

export interface ModelClient {
  /**
   * One chat completion, streamed. Retries 429/5xx only while nothing of the attempt has been
   * passed to onDelta; throws ModelError otherwise.
   */
  complete(request: CompletionRequest): Promise<CompletionResult>;
}
