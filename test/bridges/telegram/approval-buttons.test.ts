// Approval buttons: callback data round-trips, stays within Telegram's 64 bytes, and the prompt always shows the command.
import { describe, expect, it } from 'vitest';
import { approvalCallbackData, approvalKeyboard, approvalMessageText, parseApprovalData } from '../../../bridges/telegram/approval-buttons.js';

describe('approval callback data', () => {
  it.each([
    ['ap:apr_abc:a', { approvalId: 'apr_abc', decision: 'approve' }],
    ['ap:apr_abc:d', { approvalId: 'apr_abc', decision: 'deny' }],
    ['ap:apr_abc:x', undefined],
    ['ap::a', undefined],
    ['other', undefined],
    [undefined, undefined],
  ])('%s', (data, expected) => {
    expect(parseApprovalData(data)).toEqual(expected);
  });

  it('round-trips an id of the runtime shape', () => {
    const id = 'apr_AbCdEfGhIjKlMnOpQrStUv';
    expect(parseApprovalData(approvalCallbackData(id, 'deny'))).toEqual({ approvalId: id, decision: 'deny' });
  });

  it('gives no buttons when the id would not fit in 64 bytes, and says how to answer instead', () => {
    const id = 'x'.repeat(70);
    expect(approvalKeyboard(id)).toBeUndefined();
    expect(approvalMessageText({ approvalId: id, tool: 'shell', summary: 'ls', text: 'Run?' }, false)).toContain(`/approve ${id}`);
  });
});

describe('approvalMessageText', () => {
  it('adds the exact command when the text lacks it', () => {
    expect(approvalMessageText({ approvalId: 'a', tool: 'shell', summary: 'rm -rf /tmp/x', text: 'Run a command?' }, true)).toBe('Run a command?\n\nrm -rf /tmp/x');
  });

  it('keeps a text that already shows it', () => {
    expect(approvalMessageText({ approvalId: 'a', tool: 'shell', summary: 'ls', text: 'Run ls?' }, true)).toBe('Run ls?');
  });

  it('stays within 4096 code points for a huge summary', () => {
    const text = approvalMessageText({ approvalId: 'a', tool: 'write_file', summary: '😀'.repeat(5000), text: 'Write?' }, true);
    expect([...text].length).toBeLessThanOrEqual(4096);
  });
});
