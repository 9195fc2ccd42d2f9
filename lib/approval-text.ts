// Text shown to a person who decides (approvals, tool lines): every invisible or reordering character made visible, so what they read is what runs.

/**
 * Characters that can make text look like something else: C0 controls but the newline (ESC starts
 * terminal sequences that erase or move, CR returns to the line start), DEL, C1 controls (0x9B is
 * a one-byte CSI on some terminals), Unicode line and paragraph separators (a new line on some
 * screens), and the bidi marks, embeddings, overrides and isolates (they reorder what follows),
 * plus the soft hyphen, zero-width characters and the BOM (text that reads the same but runs differently).
 */
// Matching control characters is the point of this expression.
// eslint-disable-next-line no-control-regex
const HIDING = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u00AD\u061C\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]/g;

/** C0 controls and DEL have a picture of their own (␛ for ESC, ␍ for CR); the others are shown as \uXXXX. */
function visible(ch: string): string {
  const code = ch.charCodeAt(0);
  if (code < 0x20) return String.fromCharCode(0x2400 + code);
  if (code === 0x7f) return '\u2421';
  return `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * `text` with every character that could hide or disguise part of it shown visibly: `␛[2K␍` for an
 * escape sequence and a carriage return, `\u202E` for a right-to-left override. Newlines stay, so a
 * multi-line command still reads as lines. Idempotent. The runtime applies it to every summary and
 * approval it emits; clients apply it again before printing (an older runtime may not have).
 */
export function approvalSafeText(text: string): string {
  return text.replace(HIDING, visible);
}

// Terminal controls only: C0 but newline and tab, DEL and C1. Bidi and zero-width characters stay,
// since ordinary text (emoji ZWJ sequences, right-to-left scripts) needs them.
// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

/**
 * Free text for a terminal (the model's reply, a person's earlier input) with terminal controls
 * shown visibly, so a reply cannot move the cursor, erase lines or retitle the window, and so
 * cannot redraw an approval prompt printed after it.
 */
export function terminalSafeText(text: string): string {
  return text.replace(TERMINAL_CONTROLS, visible);
}
