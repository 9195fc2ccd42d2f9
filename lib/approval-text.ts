// Text shown to a person who decides (approvals, tool lines): every character that is not plainly what it looks like shown visibly, so what they read is what runs.

/**
 * Characters that can hide or disguise text, by Unicode property rather than by a list that new
 * tricks slip past: controls (ESC starts terminal sequences that erase or move, CR returns to the
 * line start, C1 0x9B is a one-byte CSI on some terminals), format characters (bidi overrides and
 * isolates reorder what follows; zero-width, tag and invisible operator characters are drawn as
 * nothing), default-ignorable code points (variation selectors, the Hangul fillers, the combining
 * grapheme joiner), every space but the ASCII one (`echo ok\u00A0# ; touch x` reads as a comment
 * to a person, not to the shell, which splits words on ASCII blanks only), private-use, unassigned
 * and lone surrogate code points (drawn as anything, or as nothing), and the braille blank U+2800,
 * which is a letter drawn empty. The newline and the ASCII space stay; decisionText lays out lines,
 * and long runs of spaces are marked (SPACE_RUN).
 */
const HIDING = /(?![ \n])[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{White_Space}\p{Default_Ignorable_Code_Point}\u2800]/u;

/** A combining mark draws on the character before it: harmless on a letter, a disguise on `#`, `;` or a space. */
const LETTER = /\p{L}/u;
/** Marks stacked on one letter beyond what scripts use draw over the lines around them. */
const MAX_MARKS_ON_A_LETTER = 4;

/** What approvalSafeText looks at: a hiding character, or a run of combining marks (with the hiding ones among them). */
const SUSPECT = new RegExp(`(${HIDING.source})|\\p{M}+`, 'gu');

/** This many ASCII spaces in a row or more can push the rest of a line out of sight, so they are shown as a count. */
const SPACE_RUN = / {16,}/g;

/** Anything outside printable ASCII and the newline: in code (a shell command) a lookalike `；` or `＃` changes what runs. */
const NOT_PLAIN_ASCII = /[^\x20-\x7E\n]/gu;

/**
 * Letters that may stay readable in a command: Chinese and Japanese ones and Korean syllables (file
 * names, messages a Feishu user types), drawn left to right and unlike any piece of shell syntax.
 * Their punctuation (`，` `。`), fullwidth forms (`ｅ`, `；`), the stroke-like Hangul jamo (`ㅣ`
 * passes for `l`), and the letters of scripts that have ASCII lookalikes (Cyrillic `а`, Greek `ο`,
 * accented Latin) or that reorder what is around them (Arabic, Hebrew) are shown as code points.
 */
const READABLE_IN_CODE = /^(?=\p{L})(?![\u3130-\u318F\uFFA0-\uFFDC])[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}]$/u;

/** A word of a command: what lies between ASCII blanks and ASCII punctuation (`报告` and `txt` in `报告.txt`). */
const COMMAND_WORD = /[^ \n!-/:-@[-`{-~]+/gu;

/** C0 controls and DEL have a picture of their own (␛ for ESC, ␍ for CR); other code points are shown as \uXXXX or \u{XXXXX}. */
function visible(ch: string): string {
  const code = ch.codePointAt(0)!;
  if (code < 0x20) return String.fromCharCode(0x2400 + code);
  if (code === 0x7f) return '\u2421';
  const hex = code.toString(16).toUpperCase();
  return code > 0xffff ? `\\u{${hex}}` : `\\u${hex.padStart(4, '0')}`;
}

/** The code point that ends at `offset` in `text` (a surrogate pair taken whole); empty at the start. */
function codePointBefore(text: string, offset: number): string {
  if (offset === 0) return '';
  const pair = offset >= 2 && /^[\uD800-\uDBFF][\uDC00-\uDFFF]$/.test(text.slice(offset - 2, offset));
  return text.slice(pair ? offset - 2 : offset - 1, offset);
}

function markedSpaceRuns(text: string): string {
  return text.replace(SPACE_RUN, (run) => `⟨${run.length} spaces⟩`);
}

/**
 * `text` with every character that could hide or disguise part of it shown visibly: `␛[2K␍` for an
 * escape sequence and a carriage return, `\u202E` for a right-to-left override, `\u00A0` for a
 * no-break space, `⟨40 spaces⟩` for a long run of spaces. Letters of every script and emoji stay
 * readable (a combining mark only on a letter, a few at most). Newlines stay, so a multi-line
 * command still reads as lines. Idempotent. The runtime applies it to every summary and approval
 * it emits; clients apply it again before showing one (an older runtime may not have).
 */
export function approvalSafeText(text: string): string {
  const shown = text.replace(SUSPECT, (found: string, hiding: string | undefined, offset: number) => {
    if (hiding !== undefined) return visible(hiding);
    // A run of marks: kept on a letter, a few at most; any hiding one among them shown, and what follows it is on no letter.
    let onLetter = LETTER.test(codePointBefore(text, offset)) ? 0 : -1;
    let out = '';
    for (const mark of found) {
      const kept = !HIDING.test(mark) && onLetter >= 0 && onLetter < MAX_MARKS_ON_A_LETTER;
      out += kept ? mark : visible(mark);
      onLetter = kept ? onLetter + 1 : -1;
    }
    return out;
  });
  return markedSpaceRuns(shown);
}

/**
 * Code shown to a person (the command of a shell approval): like approvalSafeText, and every
 * character outside printable ASCII shown as `\uXXXX` too, since a fullwidth `；` or a Cyrillic
 * `а` looks like what it is not, and in a command that changes what runs; only CJK letters stay
 * readable (READABLE_IN_CODE), in words without ASCII letters or digits. Readable text (a file's first line, a path) keeps approvalSafeText's
 * rule. Besides CJK letters, the markers it adds (␛, ⟨…⟩) are the only characters outside ASCII in its result.
 */
export function commandSafeText(text: string): string {
  const shown = text.replace(COMMAND_WORD, (word) => {
    // Beside ASCII letters or digits in one word, even a CJK letter may pass for one of them (`paypaㅣ`).
    const keepCjk = !/[A-Za-z0-9]/.test(word);
    return word.replace(NOT_PLAIN_ASCII, (ch) => (keepCjk && READABLE_IN_CODE.test(ch) ? ch : visible(ch)));
  });
  // Every character outside ASCII is inside some word, so each was looked at once.
  return markedSpaceRuns(shown);
}

/** A summary as a person deciding on it sees it: `text` (one line as it is, or numbered lines) and how many lines it has. */
export interface DecisionText {
  lines: number;
  text: string;
}

/** This many blank lines in a row or more are shown as one marker line. */
const BLANK_RUN = 2;

/**
 * `summary` laid out for a person who approves it, once for every client (tether chat, the bridges'
 * core). One line stays as it is. Several lines get a numbered gutter (` 1│ `), and a run of blank
 * lines becomes one marker line (`  ┆ ⟨60 blank lines⟩`), so no line of a command can pass for the
 * prompt itself and blank lines cannot scroll its start out of sight; callers state the line count
 * beside the question. Characters pass through approvalSafeText first.
 */
export function decisionText(summary: string): DecisionText {
  // A final newline ends the last line; it adds none.
  const raw = summary.replace(/\n$/, '').split('\n');
  const safe = approvalSafeText(summary.replace(/\n$/, '')).split('\n');
  if (raw.length === 1) return { lines: 1, text: safe[0] ?? '' };
  const width = String(raw.length).length;
  // Spaces only, or already marked as a run of them (a runtime's summary has been through approvalSafeText).
  const isBlank = (i: number) => /^(?: |⟨\d+ spaces⟩)*$/.test(raw[i] ?? '');
  const out: string[] = [];
  for (let i = 0; i < raw.length; ) {
    let end = i;
    while (end < raw.length && isBlank(end)) end++;
    if (end - i >= BLANK_RUN) {
      out.push(`${' '.repeat(width)}┆ ⟨${end - i} blank lines⟩`);
      i = end;
      continue;
    }
    out.push(`${String(i + 1).padStart(width)}│ ${safe[i]}`.trimEnd());
    i++;
  }
  return { lines: raw.length, text: out.join('\n') };
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
