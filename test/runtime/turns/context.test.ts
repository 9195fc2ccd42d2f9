// Which earlier turns go to the model: newest kept within the budget, in order, unanswered ones left out.
import { describe, expect, it } from 'vitest';
import { contextMessages, systemPrompt } from '../../../runtime/turns/context.js';

describe('contextMessages', () => {
  const newestFirst = [
    { input: 'three', output: 'THREE' },
    { input: 'two', output: '' },
    { input: 'one', output: 'ONE' },
  ];
  it.each([
    [1000, ['one', 'ONE', 'three', 'THREE']],
    [10, ['three', 'THREE']],
    [9, []],
    [0, []],
  ])('with %i chars keeps %j', (budget, expected) => {
    expect(contextMessages(newestFirst, budget).map((m) => m.content)).toEqual(expected);
  });

  it('alternates user and assistant', () => {
    expect(contextMessages(newestFirst, 1000).map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
  });
});

describe('systemPrompt', () => {
  it('names the workspace and the tools, or says there are none', () => {
    const withTools = systemPrompt('/srv/ws', [{ name: 'shell', description: '', parameters: {} }]);
    expect(withTools).toContain('/srv/ws');
    expect(withTools).toContain('shell');
    expect(systemPrompt('/srv/ws', [])).toMatch(/no tools/);
  });
});
