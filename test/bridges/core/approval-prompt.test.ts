// Approval prompts as rows: the whole summary before the buttons, each row within the limit, and closed prompts that say why.
import { describe, expect, it } from 'vitest';
import type { ConversationRef } from '../../../bridges/core/adapter.js';
import { approvalPromptRows, approvalText, closedPromptText, expiredAnswer } from '../../../bridges/core/approval-prompt.js';
import { chunkLimit } from '../../../bridges/core/chunker.js';

const ref: ConversationRef = { platform: 'telegram', chatId: '1001', kind: 'private' };
const cp = (s: string) => [...s].length;
const limit = chunkLimit(4096);
const id = 'apr_AbCdEfGhIjKlMnOpQrStUv';

describe('approvalPromptRows', () => {
  it('sends a prompt that fits one message whole, with its buttons', () => {
    const a = { approvalId: id, tool: 'shell', summary: '$ ls -la' };
    expect(approvalPromptRows(a, ref, limit)).toEqual([{ ref, kind: 'approval', body: { text: approvalText(a), approvalId: id, tool: 'shell', summary: '$ ls -la' } }]);
  });

  it('sends a long command whole as ordinary messages first, then buttons with its length and its end', () => {
    const summary = `$ echo ${'x'.repeat(4080)} > /dev/null; touch HIDDEN_TAIL_RAN`;
    const rows = approvalPromptRows({ approvalId: id, tool: 'shell', summary }, ref, limit);
    expect(rows.map((r) => r.kind)).toEqual(['text', 'text', 'approval']);
    for (const r of rows) expect(cp(r.body.text)).toBeLessThanOrEqual(limit);
    // The command, verbatim and in order, before the buttons: no fence marks, nothing cut.
    const shown = rows
      .slice(0, -1)
      .map((r) => r.body.text)
      .join('');
    expect(shown.replace(/\s+/g, '')).toContain(summary.replace(/\s+/g, ''));
    const buttons = rows.at(-1)!.body.text;
    expect(buttons).toContain(`${cp(summary).toLocaleString('en-US')} characters in the 2 messages above`);
    expect(buttons).toContain('touch HIDDEN_TAIL_RAN');
    expect(buttons).toContain(id);
    expect(rows.at(-1)!.body.summary).toBe(summary);
  });

  it('numbers the lines of a summary of several lines and folds its blank lines, so its last line cannot pass for a new prompt', () => {
    const summary = '$ touch PWNED' + '\n'.repeat(60) + 'Approval needed: shell\n$ ls -la';
    const rows = approvalPromptRows({ approvalId: id, tool: 'shell', summary }, ref, limit);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.body.text).toBe(
      ['Approval needed: shell (62 lines)', ' 1│ $ touch PWNED', '  ┆ ⟨59 blank lines⟩', '61│ Approval needed: shell', '62│ $ ls -la', '', `Reply /approve or /deny (id ${id}).`].join('\n'),
    );
    expect(rows[0]!.body.summary).toBe(summary);
    expect(closedPromptText({ approvalId: id, tool: 'shell', summary }, { decision: 'deny' }, limit)).toBe(
      ['shell (62 lines):', ' 1│ $ touch PWNED', '  ┆ ⟨59 blank lines⟩', '61│ Approval needed: shell', '62│ $ ls -la', '', '→ denied'].join('\n'),
    );
  });

  it('shows a long run of spaces as its count and hidden characters visibly, whatever runtime sent the summary', () => {
    const summary = `$ ls -la${' '.repeat(3000)}; touch PWNED\u00A0#`;
    const rows = approvalPromptRows({ approvalId: id, tool: 'shell', summary }, ref, limit);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.body.text).toContain('$ ls -la⟨3000 spaces⟩; touch PWNED\\u00A0#');
  });

  it('a long summary of several lines says its line count beside the buttons, and repeats its numbered end', () => {
    const summary = `$ echo start\n${'echo filler\n'.repeat(400)}touch LAST`;
    const rows = approvalPromptRows({ approvalId: id, tool: 'shell', summary }, ref, limit);
    const buttons = rows.at(-1)!.body.text;
    expect(buttons).toContain(`${cp(summary).toLocaleString('en-US')} characters (402 lines) in the`);
    expect(buttons).toContain('402│ touch LAST');
    expect(rows[0]!.body.text).toMatch(/^Approval needed: shell \(402 lines\) \(id .*\), in full:\n {2}1│ \$ echo start\n/);
  });

  it('repeats the end of a long summary without splitting a grapheme', () => {
    // A flag is one grapheme of two code points, neither of them hidden (a joiner would be shown as \u200D).
    const family = '🇫🇷';
    const summary = `$ echo ${'y'.repeat(4500)}${family.repeat(100)}`;
    const buttons = approvalPromptRows({ approvalId: id, tool: 'shell', summary }, ref, limit).at(-1)!.body.text;
    const tail = /…(.*)\n/.exec(buttons)![1]!;
    expect(tail.length).toBeGreaterThan(0);
    expect(tail.replaceAll(family, '')).toBe('');
  });
});

describe('closedPromptText', () => {
  const short = { approvalId: id, tool: 'shell', summary: '$ rm -rf build' };
  const long = { approvalId: id, tool: 'shell', summary: `$ echo ${'x'.repeat(5000)}` };

  it.each([
    ['approved', short, { decision: 'approve' }, 'shell: $ rm -rf build\n\n→ approved'],
    ['denied', short, { decision: 'deny' }, 'shell: $ rm -rf build\n\n→ denied'],
    ['expired by /stop', short, { expired: 'cancelled' }, 'shell: $ rm -rf build\n\n→ expired: its turn was stopped before anyone decided'],
    ['expired by a restart', short, { expired: 'interrupted' }, 'shell: $ rm -rf build\n\n→ expired: the agent restarted before anyone decided'],
    ['a long one refers to the messages above', long, { decision: 'approve' }, 'shell: the request in the messages above (5,007 characters)\n\n→ approved'],
  ])('%s', (_name, a, outcome, expected) => {
    expect(closedPromptText(a, outcome, limit)).toBe(expected);
  });

  it('says why an approval expired when someone tries it', () => {
    expect(expiredAnswer('failed')).toMatch(/^That approval expired: its turn failed before anyone decided/);
  });
});
