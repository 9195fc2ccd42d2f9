// The chunker by table: limits in code points, graphemes whole, natural boundaries, fences reopened, order kept.
import { describe, expect, it } from 'vitest';
import { chunkLimit, chunkText, firstGraphemes, graphemesOf, lastGraphemes, shortenText } from '../../../bridges/core/chunker.js';

const cp = (s: string) => [...s].length;

describe('chunkText', () => {
  it.each([
    ['empty text makes no message', '', 10, []],
    ['short text is one message', 'hello', 10, ['hello']],
    ['exactly the limit is one message', 'abcdefghij', 10, ['abcdefghij']],
    ['prefers a paragraph break', 'aaaa bbbb\n\ncccc dddd', 14, ['aaaa bbbb', 'cccc dddd']],
    ['then a line break', 'aaaa bbbb\ncccc dddd', 14, ['aaaa bbbb', 'cccc dddd']],
    ['then a space', 'aaaa bbbb cccc dddd', 12, ['aaaa bbbb', 'cccc dddd']],
    ['cuts a word with no boundary in reach', 'abcdefghijklmnop', 6, ['abcdef', 'ghijkl', 'mnop']],
  ])('%s', (_name, text, limit, expected) => {
    expect(chunkText(text, limit)).toEqual(expected);
  });

  it('never splits an emoji with ZWJ or a flag, and counts code points', () => {
    const family = '👨‍👩‍👧‍👦'; // 7 code points, one grapheme
    const text = `${family}${family}🇩🇪🇩🇪`;
    const parts = chunkText(text, 8);
    expect(parts.join('')).toBe(text);
    for (const p of parts) expect(cp(p)).toBeLessThanOrEqual(8);
    expect(parts).toEqual([family, family, '🇩🇪🇩🇪']);
  });

  it('closes a code fence at a chunk end and reopens it with its language in the next', () => {
    const code = Array.from({ length: 30 }, (_, i) => `line ${i}`).join('\n');
    const text = `Here:\n\n\`\`\`ts\n${code}\n\`\`\`\nDone.`;
    const parts = chunkText(text, 80);
    expect(parts.length).toBeGreaterThan(2);
    for (const p of parts) {
      expect(cp(p)).toBeLessThanOrEqual(80);
      expect((p.match(/```/g) ?? []).length % 2).toBe(0);
    }
    expect(parts[1]!.startsWith('```ts\n')).toBe(true);
    const lines = parts.join('\n').split('\n').filter((l) => l.startsWith('line '));
    expect(lines).toEqual(code.split('\n'));
    expect(parts.at(-1)!.endsWith('Done.')).toBe(true);
  });

  it('keeps a 10,000-character text in order and under the margin for Telegram', () => {
    const text = Array.from({ length: 2000 }, (_, i) => `w${i}`).join(' ') + ' end';
    const limit = chunkLimit(4096);
    expect(limit).toBeLessThan(4096);
    const parts = chunkText(text, limit);
    for (const p of parts) expect(cp(p)).toBeLessThanOrEqual(limit);
    expect(parts.join(' ')).toBe(text);
  });

  it('never makes a whitespace-only chunk (Telegram refuses it as "message text is empty")', () => {
    const limit = chunkLimit(4096);
    expect(chunkText('   \n\n  ', limit)).toEqual([]);
    const text = 'a'.repeat(limit - 3) + '\n\n   ';
    const parts = chunkText(text, limit);
    expect(parts).toEqual(['a'.repeat(limit - 3)]);
    for (const p of chunkText('word '.repeat(40) + '\n\n      \n', 30)) expect(p.trim()).not.toBe('');
  });

  it('splits one grapheme longer than the limit by code points instead of sending it whole', () => {
    const zalgo = 'e' + '\u0301'.repeat(5000);
    const parts = chunkText(`${zalgo} tail`, 4000);
    for (const p of parts) expect(cp(p)).toBeLessThanOrEqual(4000);
    expect(parts.join('')).toBe(`${zalgo} tail`);
  });
});

/** A small seeded generator (mulberry32): the same cases on every run, so a failure can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Graphemes of several code points that a cut must never separate. */
const WHOLE = ['👨‍👩‍👧‍👦', '🇩🇪', 'e\u0301', '🏴󠁧󠁢󠁥󠁮󠁧󠁿', '👍🏽'];

function randomFencedText(rnd: () => number, size: number): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const word = () => 'abcdefghijklmnopqrstuvwxyz'.slice(0, 1 + Math.floor(rnd() * 10));
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const r = rnd();
    let p: string;
    if (r < 0.04) p = '\n```' + pick(['', 'ts', 'c++', 'objective-c', 'x'.repeat(1 + Math.floor(rnd() * 6000)), 'not a language', '`odd`', 'z'.repeat(21)]) + '\n';
    else if (r < 0.06) p = '\n```\n';
    else if (r < 0.1) p = pick(WHOLE);
    else if (r < 0.15) p = pick(['\n', '\n\n', '  ', '\r\n']);
    else if (r < 0.17) p = 'q'.repeat(Math.floor(rnd() * 5000)); // a long run with no boundary
    else p = word() + ' ';
    parts.push(p);
    n += [...p].length;
  }
  return parts.join('');
}

function countOf(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** True when every character of `inner` appears in `outer`, in order (others may be in between). */
function isSubsequence(inner: string, outer: string): boolean {
  const a = [...inner];
  let i = 0;
  for (const c of outer) if (i < a.length && c === a[i]) i++;
  return i === a.length;
}

describe('chunkText on fences', () => {
  it('reopens a fence with a word-like language only: a huge info string does not ride along in every chunk', () => {
    const text = '```' + 'z'.repeat(5000) + '\n' + 'code line\n'.repeat(600) + '```\n';
    const limit = chunkLimit(4096);
    const parts = chunkText(text, limit);
    expect(parts.length).toBeLessThanOrEqual(Math.ceil([...text].length / 3900) + 1);
    for (const p of parts) expect(cp(p)).toBeLessThanOrEqual(limit);
    for (const p of parts.slice(1)) expect(p.startsWith('```z')).toBe(false);
  });

  it.each([
    ['ts', '```ts\n'],
    ['c++', '```c++\n'],
    ['objective-c', '```objective-c\n'],
    ['a language of 21 characters', '```\n', 'z'.repeat(21)],
    ['words with spaces', '```\n', 'not a language'],
  ])('reopens a fence tagged %s as %j', (_name, opener, language = _name) => {
    const text = '```' + language + '\n' + 'line of code\n'.repeat(40) + '```';
    const parts = chunkText(text, 200);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts.slice(1)) expect(p.startsWith(opener)).toBe(true);
  });

  it('over random fenced text: every chunk within the limit, at most ⌈length / 3900⌉ + 1 of them, nothing lost or reordered, no grapheme split', () => {
    const rnd = seeded(12);
    const limit = chunkLimit(4096);
    for (let i = 0; i < 200; i++) {
      const text = randomFencedText(rnd, 1 + Math.floor(rnd() * 12_000));
      const parts = chunkText(text, limit);
      const length = cp(text);
      const where = `case ${i} (${length} code points)`;
      expect(parts.length, where).toBeLessThanOrEqual(Math.ceil(length / 3900) + 1);
      for (const p of parts) {
        expect(cp(p), where).toBeLessThanOrEqual(limit);
        expect(p.trim(), where).not.toBe('');
      }
      const joined = parts.join('\n');
      expect(isSubsequence(text.replace(/\s+/gu, ''), joined.replace(/\s+/gu, '')), where).toBe(true);
      for (const g of WHOLE) expect(parts.reduce((sum, p) => sum + countOf(p, g), 0), `${where}: ${g}`).toBe(countOf(text, g));
    }
  });
});

describe('cutting text on grapheme boundaries', () => {
  const family = '👨‍👩‍👧‍👦';

  it.each([
    ['keeps a text that fits', 'hello', 5, 'hello'],
    ['ends with … when cut', 'hello world', 6, 'hello…'],
    ['never cuts into a ZWJ family', `ab${family}`, 8, 'ab…'],
    ['never cuts into a flag', 'a🇩🇪🇫🇷', 4, 'a🇩🇪…'],
    ['never takes a letter without its accent', 'ae\u0301', 2, 'a…'],
  ])('shortenText %s', (_name, text, max, expected) => {
    expect(shortenText(text, max)).toBe(expected);
    expect(cp(shortenText(text, max))).toBeLessThanOrEqual(max);
  });

  it('takes whole graphemes from either end', () => {
    expect(firstGraphemes(`${family}x`, 7)).toBe(family);
    expect(firstGraphemes(`${family}x`, 6)).toBe('');
    expect(lastGraphemes(`x🇩🇪`, 2)).toBe('🇩🇪');
    expect(lastGraphemes(`x🇩🇪`, 3)).toBe('x🇩🇪');
    expect(lastGraphemes(`x${family}`, 6)).toBe('');
  });

  it('finds the same graphemes as walking the whole text at once, across its windows', () => {
    const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
    const rnd = seeded(7);
    const pieces = [...WHOLE, 'a', 'b', ' ', '\n', '\r\n', 'é', '한', '#\uFE0F\u20E3'];
    // A pile of marks longer than a window makes the window grow.
    const pile = 'o' + '\u0308'.repeat(700);
    for (let i = 0; i < 30; i++) {
      const text = Array.from({ length: 200 + Math.floor(rnd() * 400) }, () => (rnd() < 0.005 ? pile : pieces[Math.floor(rnd() * pieces.length)]!)).join('');
      expect(graphemesOf(text)).toEqual(Array.from(segmenter.segment(text), (s) => s.segment));
    }
  });
});
