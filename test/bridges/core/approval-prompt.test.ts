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

  it('repeats the end of a long summary without splitting a grapheme', () => {
    const family = '👨‍👩‍👧‍👦';
    const summary = `$ echo ${'y'.repeat(4500)}${family.repeat(40)}`;
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
