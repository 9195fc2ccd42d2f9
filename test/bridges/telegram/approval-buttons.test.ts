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
  it('keeps the core\'s text as it is beside buttons, even when it only refers to the messages that show the command', () => {
    const prompt = { approvalId: 'a', tool: 'shell', summary: 'x'.repeat(5000), text: 'Approval needed: shell\nThe whole request is in the 2 messages above.' };
    expect(approvalMessageText(prompt, true)).toBe(prompt.text);
  });

  it('adds the exact commands to type when there are no buttons', () => {
    expect(approvalMessageText({ approvalId: 'apr_1', tool: 'shell', summary: 'ls', text: 'Run ls?' }, false)).toBe('Run ls?\n\nReply /approve apr_1 or /deny apr_1');
  });

  it('never cuts a text over 4096 code points (the core lays it out again), and counts an emoji as one', () => {
    const text = 'Write?\n' + '😀'.repeat(5000);
    expect(approvalMessageText({ approvalId: 'a', tool: 'write_file', summary: text, text }, true)).toBeUndefined();
    const fits = '😀'.repeat(4096);
    expect(approvalMessageText({ approvalId: 'a', tool: 'write_file', summary: fits, text: fits }, true)).toBe(fits);
    // No room for the typed hint: the text goes whole, without it (it already names the id).
    expect(approvalMessageText({ approvalId: 'a', tool: 'write_file', summary: fits, text: fits }, false)).toBe(fits);
  });
});
