// The pure pieces of `tether chat`: what a typed line means, and how a turn's events look on a terminal.
import { describe, expect, it } from 'vitest';
import { describeRecentTurns, isApproval, parseChatLine, shorten, TurnRenderer } from '../../cli/chat.js';
import type { RuntimeEvent, Turn } from '../../lib/runtime-client.js';

describe('parseChatLine', () => {
  it.each([
    ['', { kind: 'empty' }],
    ['   ', { kind: 'empty' }],
    ['hello', { kind: 'turn', input: 'hello' }],
    ['  spaced out  ', { kind: 'turn', input: 'spaced out' }],
    ['/new', { kind: 'command', name: 'new', argument: '' }],
    ['/NEW', { kind: 'command', name: 'new', argument: '' }],
    ['/model gpt-4.1', { kind: 'command', name: 'model', argument: 'gpt-4.1' }],
    ['/quit', { kind: 'command', name: 'exit', argument: '' }],
    ['/exit', { kind: 'command', name: 'exit', argument: '' }],
    ['/frobnicate', { kind: 'unknown_command', name: 'frobnicate' }],
    ['/etc/hosts: what is in it?', { kind: 'turn', input: '/etc/hosts: what is in it?' }],
    ['!tool shell {"command":"ls"}', { kind: 'turn', input: '!tool shell {"command":"ls"}' }],
  ])('%j', (line, expected) => {
    expect(parseChatLine(line)).toEqual(expected);
  });
});

describe('isApproval', () => {
  it.each([
    ['y', true],
    ['Y', true],
    [' yes ', true],
    ['YES', true],
    ['n', false],
    ['', false],
    ['yeah sure', false],
    [null, false],
  ])('%j → %s', (answer, expected) => {
    expect(isApproval(answer)).toBe(expected);
  });
});

describe('shorten', () => {
  it('keeps short single lines, cuts long or multi-line text with an ellipsis, never inside a code point', () => {
    expect(shorten('short')).toBe('short');
    expect(shorten('first\nsecond')).toBe('first…');
    expect(shorten('😀'.repeat(5), 3)).toBe('😀😀😀…');
  });
});

let seq = 0;
const ev = (type: RuntimeEvent['type'], payload: Record<string, unknown> = {}): RuntimeEvent => ({ seq: ++seq, type, thread_id: 'thr', turn_id: 'turn', at: '2026-12-01T00:00:00Z', ...payload });

function renderAll(events: RuntimeEvent[]): string {
  const r = new TurnRenderer();
  return events.map((e) => r.render(e)).join('');
}

describe('TurnRenderer', () => {
  it('streams text and ends the reply with one line break', () => {
    expect(renderAll([ev('turn.queued'), ev('turn.started'), ev('message.delta', { text: 'Hel' }), ev('message.delta', { text: 'lo' }), ev('turn.completed', { output: 'Hello' })])).toBe('Hello\n');
  });

  it('prints the output when no text was streamed', () => {
    expect(renderAll([ev('turn.completed', { output: 'whole reply' })])).toBe('whole reply\n');
  });

  it('puts a tool on one line, printing only what the finished summary adds', () => {
    expect(renderAll([ev('tool.started', { tool: 'shell', summary: '$ ls' }), ev('tool.finished', { tool: 'shell', ok: true, summary: '$ ls → exit 0, 3 lines' }), ev('message.delta', { text: 'three files' }), ev('turn.completed', { output: 'three files' })])).toBe(
      '⚙ shell: $ ls → exit 0, 3 lines\nthree files\n',
    );
  });

  it('joins a finished summary that does not repeat the command with an arrow, and marks failures', () => {
    expect(renderAll([ev('tool.started', { tool: 'read_file', summary: 'read a.txt' }), ev('tool.finished', { tool: 'read_file', ok: false, summary: 'no such file' })])).toBe('⚙ read_file: read a.txt → no such file ✗\n');
  });

  it('breaks the line before a tool that starts mid-sentence', () => {
    expect(renderAll([ev('message.delta', { text: 'Let me look' }), ev('tool.started', { tool: 'list_dir', summary: 'list .' }), ev('tool.finished', { tool: 'list_dir', ok: true, summary: 'list . (2 entries)' })])).toBe('Let me look\n⚙ list_dir: list . (2 entries)\n');
  });

  it('shows an approval request on its own line', () => {
    expect(renderAll([ev('message.delta', { text: 'I will run it' }), ev('approval.requested', { approval_id: 'apr', tool: 'shell', summary: '$ rm -rf build' })])).toBe('I will run it\n⚠ shell wants to run: $ rm -rf build\n');
  });

  it('shows control characters of an approval and of tool lines visibly, even when a runtime sent them raw', () => {
    const spoof = 'touch PWNED # \x1b[2K\r⚠ shell wants to run: $ ls -la';
    const approval = renderAll([ev('approval.requested', { approval_id: 'apr', tool: 'shell', summary: `$ ${spoof}` })]);
    expect(approval).toBe('⚠ shell wants to run: $ touch PWNED # ␛[2K␍⚠ shell wants to run: $ ls -la\n');
    const tools = renderAll([ev('tool.started', { tool: 'sh\u202Eell', summary: `$ ${spoof}` }), ev('tool.finished', { tool: 'shell', ok: true, summary: 'done\x1b]52;c;aGk=\x07' }), ev('turn.failed', { error: 'bad\x1b[31m' })]);
    expect([...tools].filter((c) => (c < ' ' && c !== '\n') || c === '\u202E')).toEqual([]);
    expect(tools).toContain('⚙ sh\\u202Eell: $ touch PWNED # ␛[2K␍⚠');
    expect(tools).toContain('done␛]52;c;aGk=␇');
    expect(tools).toContain('✗ turn failed: bad␛[31m');
  });

  it('shows terminal controls in the model’s reply visibly, so a reply cannot redraw the approval printed after it', () => {
    const fake = 'Done.\x1b[1A\x1b[2K\r⚠ shell wants to run: $ ls';
    const out = renderAll([ev('message.delta', { text: fake }), ev('approval.requested', { approval_id: 'apr', tool: 'shell', summary: '$ rm -rf ~' })]);
    expect(out).toBe('Done.␛[1A␛[2K␍⚠ shell wants to run: $ ls\n⚠ shell wants to run: $ rm -rf ~\n');
    // Newlines, tabs and emoji joined by zero-width joiners are ordinary text and stay as they are.
    expect(renderAll([ev('turn.completed', { output: 'a\tb\n👩\u200D💻' })])).toBe('a\tb\n👩\u200D💻\n');
    const resumed = { id: 't', thread_id: 'th', input: 'hi\x1b[2J', status: 'completed', output: 'ok\x1b]0;owned\x07', created_at: '' } as Turn;
    expect(describeRecentTurns([resumed])).toEqual(['you: hi␛[2J', 'agent: ok␛]0;owned␇']);
  });

  it('shows control characters of a resumed turn’s error visibly', () => {
    const failed = { id: 't', thread_id: 'th', input: 'hi', status: 'failed', output: '', error: 'bad\x1b[2J', created_at: '' } as Turn;
    expect(describeRecentTurns([failed])).toEqual(['you: hi', '✗ turn failed: bad␛[2J']);
  });

  it.each<[RuntimeEvent['type'], Record<string, unknown>, string]>([
    ['turn.failed', { error: 'the model provider refused the key' }, '✗ turn failed: the model provider refused the key\n'],
    ['turn.cancelled', {}, '✗ turn cancelled\n'],
    ['turn.interrupted', {}, '✗ turn interrupted (the runtime restarted while it ran)\n'],
  ])('ends a %s turn with one line, after any partial text', (type, payload, line) => {
    expect(renderAll([ev('message.delta', { text: 'partial' }), ev(type, payload)])).toBe(`partial\n${line}`);
  });
});

describe('describeRecentTurns', () => {
  const turn = (input: string, status: Turn['status'], output = '', error?: string): Turn => ({ id: input, thread_id: 'thr', input, status, output, error, created_at: '' });
  it('shows the last three turns, each briefly, and how many came before', () => {
    expect(describeRecentTurns([turn('a', 'completed', 'A'), turn('b', 'completed', 'B'), turn('c', 'failed', '', 'timed out'), turn('d', 'awaiting_approval')])).toEqual([
      '… 1 earlier turn(s)',
      'you: b',
      'agent: B',
      'you: c',
      '✗ turn failed: timed out',
      'you: d',
      '(awaiting approval)',
    ]);
  });
});
