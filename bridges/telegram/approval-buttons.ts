// Approval prompts as Telegram messages: the text with the exact command, and Approve/Deny buttons.
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { ApprovalPrompt } from '../core/adapter.js';

/** Telegram refuses callback_data over 64 bytes (BUTTON_DATA_INVALID). */
export const CALLBACK_DATA_MAX_BYTES = 64;
const TEXT_LIMIT = 4096;

export function approvalCallbackData(approvalId: string, decision: 'approve' | 'deny'): string {
  return `ap:${approvalId}:${decision === 'approve' ? 'a' : 'd'}`;
}

/** `ap:<approvalId>:a|d` → the decision; anything else → undefined. */
export function parseApprovalData(data: string | undefined): { approvalId: string; decision: 'approve' | 'deny' } | undefined {
  const m = /^ap:([^:\s]+):([ad])$/.exec(data ?? '');
  if (!m) return undefined;
  return { approvalId: m[1]!, decision: m[2] === 'a' ? 'approve' : 'deny' };
}

/** Buttons for a prompt, or undefined when the id is too long to fit in callback data (then /approve works). */
export function approvalKeyboard(approvalId: string): InlineKeyboardMarkup | undefined {
  const longest = approvalCallbackData(approvalId, 'approve');
  if (Buffer.byteLength(longest, 'utf8') > CALLBACK_DATA_MAX_BYTES) return undefined;
  return {
    inline_keyboard: [
      [
        { text: '✅ Approve', callback_data: approvalCallbackData(approvalId, 'approve') },
        { text: '❌ Deny', callback_data: approvalCallbackData(approvalId, 'deny') },
      ],
    ],
  };
}

function truncateCodePoints(text: string, max: number): string {
  const points = [...text];
  return points.length <= max ? text : points.slice(0, max - 1).join('') + '…';
}

/**
 * The prompt's text, always showing the exact command or path (the summary), within Telegram's limit.
 * The core's text is kept as it is; the summary is added only if the text does not already carry it.
 */
export function approvalMessageText(prompt: ApprovalPrompt, withButtons: boolean): string {
  const hint = withButtons ? '' : `\n\nReply /approve ${prompt.approvalId} or /deny ${prompt.approvalId}`;
  const base = prompt.text.includes(prompt.summary) ? prompt.text : `${prompt.text}\n\n${prompt.summary}`;
  return truncateCodePoints(base, TEXT_LIMIT - [...hint].length) + hint;
}
