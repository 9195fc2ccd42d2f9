// Approval prompts as Telegram messages: the core's text as it is, and Approve/Deny buttons.
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { ApprovalPrompt } from '../core/adapter.js';
import { codePoints } from '../core/chunker.js';

/** Telegram refuses callback_data over 64 bytes (BUTTON_DATA_INVALID). */
export const CALLBACK_DATA_MAX_BYTES = 64;
const TEXT_LIMIT = 4096;
/** Telegram shows at most 200 characters of a button press's answer (answerCallbackQuery). */
export const CALLBACK_ANSWER_MAX = 200;

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

/**
 * The prompt's text: the core's, never cut (it shows the whole summary, or follows the messages
 * that do), with the exact commands to type added when there are no buttons and room for them.
 * Undefined when the text itself is over Telegram's limit: the core lays the prompt out again.
 */
export function approvalMessageText(prompt: ApprovalPrompt, withButtons: boolean): string | undefined {
  if (codePoints(prompt.text) > TEXT_LIMIT) return undefined;
  const hint = withButtons ? '' : `\n\nReply /approve ${prompt.approvalId} or /deny ${prompt.approvalId}`;
  return codePoints(prompt.text) + codePoints(hint) <= TEXT_LIMIT ? prompt.text + hint : prompt.text;
}
