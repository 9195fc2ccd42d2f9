// Head-and-tail capping of process output and the UTF-8-safe cuts it relies on.
import { describe, expect, it } from 'vitest';
import { CappedOutput } from '../../../runtime/tools/capped-output.js';
import { countLines, formatBytes, oneLine, utf8CutBefore, utf8StartAfter } from '../../../runtime/tools/measure.js';

describe('utf8CutBefore / utf8StartAfter', () => {
  const bytes = Buffer.from('aé漢🙂'); // 1 + 2 + 3 + 4 bytes
  it.each([
    [0, 0], [1, 1], [2, 1], [3, 3], [4, 3], [5, 3], [6, 6], [7, 6], [8, 6], [9, 6], [10, 10], [99, 10],
  ])('cutting at %i keeps %i bytes', (at, cut) => {
    expect(utf8CutBefore(bytes, at)).toBe(cut);
  });
  it.each([
    [0, 0], [1, 1], [2, 3], [3, 3], [4, 6], [5, 6], [6, 6], [7, 10], [9, 10], [10, 10],
  ])('starting at %i starts at %i', (at, start) => {
    expect(utf8StartAfter(bytes, at)).toBe(start);
  });
});

describe('CappedOutput', () => {
  const feed = (max: number, text: string, chunk: number) => {
    const out = new CappedOutput(max);
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += chunk) out.append(bytes.subarray(i, i + chunk));
    return out;
  };

  it('keeps output that fits exactly as it came, whatever the chunking', () => {
    for (const chunk of [1, 3, 7, 1000]) expect(feed(100, 'héllo\nwörld\n', chunk).text()).toBe('héllo\nwörld\n');
  });

  it.each([64, 65, 101, 257])('at cap %i keeps a whole-character head and tail and counts what was cut', (max) => {
    const text = 'é漢🙂x'.repeat(100);
    for (const chunk of [1, 5, 64, 10_000]) {
      const out = feed(max, text, chunk);
      const shown = out.text();
      const m = /\n\[… .* \((\d+) bytes\) cut from the middle of .* of output …\]\n/.exec(shown);
      expect(m).not.toBeNull();
      const head = shown.slice(0, m?.index);
      const tail = shown.slice((m?.index ?? 0) + (m?.[0].length ?? 0));
      expect(shown).not.toContain('\uFFFD');
      expect(text.startsWith(head)).toBe(true);
      expect(text.endsWith(tail)).toBe(true);
      expect(Buffer.byteLength(head) + Buffer.byteLength(tail)).toBeLessThanOrEqual(max);
      expect(Buffer.byteLength(head) + Buffer.byteLength(tail) + Number(m?.[1])).toBe(Buffer.byteLength(text));
    }
  });

  it('counts lines over everything, cut or not', () => {
    expect(feed(10, 'a\nb\nc\nd\ne\nf\ng\nh', 2).lineCount).toBe(8);
    expect(feed(10, '', 2).lineCount).toBe(0);
    expect(feed(10, 'x\n', 2).lineCount).toBe(1);
  });
});

describe('measure', () => {
  it.each([[0, '0 B'], [1023, '1023 B'], [1024, '1.0 KB'], [1536, '1.5 KB'], [20 * 1024, '20 KB'], [5 * 1024 * 1024, '5.0 MB']])('%i bytes is %s', (n, s) => {
    expect(formatBytes(n)).toBe(s);
  });
  it.each([['', 0], ['a', 1], ['a\n', 1], ['a\nb', 2], ['\n\n', 2]])('%j has %i lines', (text, n) => {
    expect(countLines(text)).toBe(n);
  });
  it('flattens and shortens one-liners', () => {
    expect(oneLine('cat <<EOF\nhi\nEOF', 80)).toBe('cat <<EOF ⏎ hi ⏎ EOF');
    expect(oneLine('abcdef', 4)).toBe('abc…');
  });
});
