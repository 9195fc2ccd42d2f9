// How tools describe amounts to people and models: byte sizes, line counts, shortened one-liners, UTF-8-safe cuts.

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`;
}

/** Lines as a person counts them: a last line without a newline still counts. */
export function countLines(text: string): number {
  if (text === '') return 0;
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return text.endsWith('\n') ? n : n + 1;
}

/**
 * One line of at most `max` characters: newlines shown as ⏎, the end elided. Only ASCII blanks are
 * folded into one space: another space (U+00A0, U+3000) is left for approvalSafeText to show.
 */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\r?\n/g, ' ⏎ ').replace(/[ \t\n\r\f\v]+/g, ' ').trim();
  const chars = Array.from(flat);
  if (chars.length <= max) return flat;
  return `${chars.slice(0, max - 1).join('')}…`;
}

/** The first clause of a refusal (before "; "), short enough for a progress line. */
export function headline(sentence: string, max = 100): string {
  return oneLine(sentence.split('; ', 1)[0] ?? sentence, max);
}

function isContinuationByte(b: number | undefined): boolean {
  return b !== undefined && (b & 0xc0) === 0x80;
}

function utf8Length(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xf0) return 4;
  if (lead >= 0xe0) return 3;
  if (lead >= 0xc0) return 2;
  return 1; // a stray continuation byte: invalid anyway, treat it as its own unit
}

/** The largest cut ≤ `at` that does not split a UTF-8 character: bytes [0, cut) hold only whole characters. */
export function utf8CutBefore(bytes: Uint8Array, at: number): number {
  const cut = Math.max(0, Math.min(at, bytes.length));
  // Find where the character holding byte cut-1 begins (at most 3 continuation bytes back).
  let lead = cut - 1;
  while (lead > 0 && cut - lead < 4 && isContinuationByte(bytes[lead])) lead--;
  if (lead < 0) return 0;
  return lead + utf8Length(bytes[lead] ?? 0) <= cut ? cut : lead;
}

/** The smallest start ≥ `at` that begins a UTF-8 character: bytes [start, end) stay whole. */
export function utf8StartAfter(bytes: Uint8Array, at: number): number {
  let start = Math.max(0, Math.min(at, bytes.length));
  for (let steps = 0; steps < 3 && start < bytes.length && isContinuationByte(bytes[start]); steps++) start++;
  return start;
}
