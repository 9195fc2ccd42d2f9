// The messages a turn sends the model: a system prompt, earlier turns of the thread (newest kept), and the input.
import type { ChatMessage } from '../models/types.js';
import type { ToolSchema } from '../models/types.js';

export interface PastTurn {
  input: string;
  output: string;
}

export function systemPrompt(workspace: string, tools: readonly ToolSchema[]): string {
  const toolLine = tools.length > 0 ? `Tools you may use: ${tools.map((t) => t.name).join(', ')}.` : 'You have no tools in this conversation: answer from what you know and what you are told.';
  return [
    'You are Tether, an agent running on the user\'s own machine, reached from a chat app on their phone.',
    `Your workspace is ${workspace}; file tools work inside it and the shell starts there.`,
    toolLine,
    'Some tools may need the person\'s approval; if they deny one, do not retry it, say what you would have done instead.',
    'Replies are shown as plain text in a chat: be concise, no Markdown tables.',
  ].join('\n');
}

/**
 * Earlier turns, newest first as the store yields them, become user/assistant pairs in order,
 * keeping the newest that fit in `maxChars` (oldest dropped first).
 */
export function contextMessages(newestFirst: Iterable<PastTurn>, maxChars: number): ChatMessage[] {
  const kept: PastTurn[] = [];
  let used = 0;
  for (const t of newestFirst) {
    if (t.output === '') continue;
    const size = t.input.length + t.output.length;
    if (used + size > maxChars) break;
    used += size;
    kept.push(t);
  }
  return kept.reverse().flatMap((t): ChatMessage[] => [
    { role: 'user', content: t.input },
    { role: 'assistant', content: t.output },
  ]);
}
