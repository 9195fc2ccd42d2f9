// The chunker by table: limits in code points, graphemes whole, natural boundaries, fences reopened, order kept.
import { describe, expect, it } from 'vitest';
import { chunkLimit, chunkText } from '../../../bridges/core/chunker.js';

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
