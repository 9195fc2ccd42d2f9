// Assembling a completion from chunks as different servers stream them.
import { describe, expect, it } from 'vitest';
import { CompletionAssembler } from '../../../runtime/models/completion-assembler.js';

function assemble(chunks: unknown[]) {
  const a = new CompletionAssembler();
  const texts = chunks.map((c) => a.accept(c).text).filter(Boolean);
  return { texts, result: a.result() };
}

const delta = (d: Record<string, unknown>, finish: string | null = null) => ({ choices: [{ index: 0, delta: d, finish_reason: finish }] });

describe('completion assembler', () => {
  it('joins tool-call fragments by index, interleaved', () => {
    const { result } = assemble([
      delta({ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'shell', arguments: '' } }] }),
      delta({ tool_calls: [{ index: 1, id: 'b', type: 'function', function: { name: 'list_dir', arguments: '{"pa' } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: '{"command":' } }] }),
      delta({ tool_calls: [{ index: 1, function: { arguments: 'th":"."}' } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: '"ls"}' } }] }),
      delta({}, 'tool_calls'),
    ]);
    expect(result.toolCalls).toEqual([
      { id: 'a', name: 'shell', arguments: '{"command":"ls"}' },
      { id: 'b', name: 'list_dir', arguments: '{"path":"."}' },
    ]);
    expect(result.finishReason).toBe('tool_calls');
  });

  it('accepts whole tool calls without index, with object arguments and a repeated name', () => {
    const { result } = assemble([
      delta({ tool_calls: [{ id: 'x1', function: { name: 'read_file', arguments: { path: 'a' } } }] }),
      delta({ tool_calls: [{ id: 'x2', function: { name: 'write_file', arguments: '{"path":"b",' } }] }),
      delta({ tool_calls: [{ function: { name: 'write_file', arguments: '"content":""}' } }] }),
    ]);
    expect(result.toolCalls).toEqual([
      { id: 'x1', name: 'read_file', arguments: '{"path":"a"}' },
      { id: 'x2', name: 'write_file', arguments: '{"path":"b","content":""}' },
    ]);
  });

  it('separates calls that reuse index 0 with different ids (Ollama)', () => {
    const { result } = assemble([
      delta({ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'write_file', arguments: '{"path":"hello.py",' } }] }),
      delta({ tool_calls: [{ index: 0, function: { arguments: '"content":"1"}' } }] }),
      delta({ tool_calls: [{ index: 0, id: 'b', type: 'function', function: { name: 'write_file', arguments: '{"path":"world.py","content":"2"}' } }] }),
    ]);
    expect(result.toolCalls).toEqual([
      { id: 'a', name: 'write_file', arguments: '{"path":"hello.py","content":"1"}' },
      { id: 'b', name: 'write_file', arguments: '{"path":"world.py","content":"2"}' },
    ]);
  });

  it('reads an index given inside function', () => {
    const { result } = assemble([
      delta({ tool_calls: [{ function: { index: 0, name: 'list_dir', arguments: '{}' } }, { function: { index: 1, name: 'read_file', arguments: '{"path":"a"}' } }] }),
    ]);
    expect(result.toolCalls.map((c) => c.name)).toEqual(['list_dir', 'read_file']);
  });

  it('gives calls without an id a stable one, and empty arguments as {}', () => {
    const { result } = assemble([delta({ tool_calls: [{ index: 0, function: { name: 'list_dir', arguments: '' } }] })]);
    expect(result.toolCalls).toEqual([{ id: 'call_0', name: 'list_dir', arguments: '{}' }]);
  });

  it('drops a fragment stream that never named its tool', () => {
    expect(assemble([delta({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] })]).result.toolCalls).toEqual([]);
  });

  it('returns text as it arrives, skipping empty role chunks and other choices', () => {
    const { texts, result } = assemble([
      delta({ role: 'assistant', content: '' }),
      delta({ content: 'a' }),
      { choices: [{ index: 1, delta: { content: 'other choice' } }] },
      delta({ content: null, reasoning_content: 'thinking' }),
      delta({ content: 'b' }, 'stop'),
    ]);
    expect(texts).toEqual(['a', 'b']);
    expect(result.text).toBe('ab');
    expect(result.finishReason).toBe('stop');
  });

  it('reads usage from a final chunk or from inside the choice', () => {
    expect(assemble([delta({ content: 'a' }, 'stop'), { choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }]).result.usage).toEqual({ prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 });
    expect(assemble([{ choices: [{ index: 0, delta: {}, finish_reason: 'stop', usage: { prompt_tokens: 2, completion_tokens: 5 } }] }]).result.usage).toEqual({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
    expect(assemble([delta({ content: 'a' }, 'stop')]).result.usage).toBeUndefined();
  });

  it('reports an error object in the stream, with the status some servers put in its code', () => {
    const a = new CompletionAssembler();
    expect(a.accept({ error: { message: 'Rate limited', code: 429 } })).toEqual({ text: '', error: { message: 'Rate limited', status: 429 } });
    expect(a.accept({ error: 'boom' })).toEqual({ text: '', error: { message: 'boom' } });
  });

  it('takes a whole non-streamed answer', () => {
    const { result } = assemble([{ choices: [{ index: 0, message: { role: 'assistant', content: 'whole' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1 } }]);
    expect(result).toEqual({ text: 'whole', toolCalls: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }, finishReason: 'stop' });
  });
});
