// What a person deciding is shown: every character that is not plainly what it looks like, commands as ASCII, several lines numbered.
import { describe, expect, it } from 'vitest';
import { approvalSafeText, commandSafeText, decisionText } from '../../lib/approval-text.js';

describe('approvalSafeText', () => {
  // Each passed unchanged before: drawn as a space or as nothing, so `a<it>b` read as `a b` or `ab`.
  it.each([
    ['a no-break space', '\u00A0', '\\u00A0'],
    ['an en space', '\u2002', '\\u2002'],
    ['a narrow no-break space', '\u202F', '\\u202F'],
    ['an ideographic space', '\u3000', '\\u3000'],
    ['a Hangul filler', '\u3164', '\\u3164'],
    ['a Hangul choseong filler', '\u115F', '\\u115F'],
    ['a halfwidth Hangul filler', '\uFFA0', '\\uFFA0'],
    ['the braille blank', '\u2800', '\\u2800'],
    ['a tag space', '\u{E0020}', '\\u{E0020}'],
    ['variation selector 16', '\uFE0F', '\\uFE0F'],
    ['the Mongolian vowel separator', '\u180E', '\\u180E'],
    ['inhibit symmetric swapping', '\u206A', '\\u206A'],
    ['the combining grapheme joiner', '\u034F', '\\u034F'],
    ['a Khmer inherent vowel', '\u17B4', '\\u17B4'],
    ['a musical beam format character', '\u{1D173}', '\\u{1D173}'],
    ['the ogham space mark', '\u1680', '\\u1680'],
    ['a private-use character', '\uE000', '\\uE000'],
    ['an unassigned code point', '\u{10FFFF}', '\\u{10FFFF}'],
    ['a lone surrogate', '\uD800', '\\uD800'],
  ])('shows %s visibly', (_name, ch, shown) => {
    expect(approvalSafeText(`a${ch}b`)).toBe(`a${shown}b`);
  });

  it('shows a no-break space before # visibly, so live shell text cannot pass for a comment', () => {
    expect(approvalSafeText('echo build ok\u00A0# ; touch PWNED')).toBe('echo build ok\\u00A0# ; touch PWNED');
  });

  it('shows a combining mark on something that is not a letter, and marks stacked past four on one letter', () => {
    expect(approvalSafeText('echo x #\u0338; ls')).toBe('echo x #\\u0338; ls');
    expect(approvalSafeText('\u0301start')).toBe('\\u0301start');
    expect(approvalSafeText(`e${'\u0301'.repeat(6)}`)).toBe(`e${'\u0301'.repeat(4)}\\u0301\\u0301`);
    // A hiding mark among them (a variation selector) is shown, and the marks after it are on no letter.
    expect(approvalSafeText('e\u0301\uFE0F\u0301 x')).toBe('e\u0301\\uFE0F\\u0301 x');
    expect(approvalSafeText('\u{1D400}\u0301 #\u0338')).toBe('\u{1D400}\u0301 #\\u0338');
  });

  it('keeps letters of every script, marks on letters, symbols and emoji readable', () => {
    const text = 'write notes/ünï 文件 café ✓ 😀 🇫🇷 שָׁלוֹם नमस्ते';
    expect(approvalSafeText(text)).toBe(text);
  });

  it('shows a long run of spaces as its count, so it cannot push the rest of a line out of sight', () => {
    expect(approvalSafeText(`ls -la${' '.repeat(300)}; touch PWNED`)).toBe('ls -la⟨300 spaces⟩; touch PWNED');
    expect(approvalSafeText(`a${' '.repeat(15)}b`)).toBe(`a${' '.repeat(15)}b`);
  });

  it('is idempotent', () => {
    const once = approvalSafeText(`a\u00A0b\u{E0020}c #\u0338 e${'\u0301'.repeat(6)} ${' '.repeat(40)}\x1b[2K\r`);
    expect(approvalSafeText(once)).toBe(once);
  });
});

describe('commandSafeText', () => {
  it('shows every character outside printable ASCII as its code point: a lookalike ； or ＃ changes what runs', () => {
    expect(commandSafeText('echo ok；touch PWNED ＃ done')).toBe('echo ok\\uFF1Btouch PWNED \\uFF03 done');
    expect(commandSafeText('сurl x')).toBe('\\u0441url x');
    expect(commandSafeText('cat 文件 😀')).toBe('cat 文件 \\u{1F600}');
  });

  it('keeps Chinese, Japanese and Korean letters readable, but not their punctuation, fullwidth lookalikes or other scripts', () => {
    expect(commandSafeText('cat 报告.txt ファイル 파일')).toBe('cat 报告.txt ファイル 파일');
    expect(commandSafeText('echo 你好，世界。')).toBe('echo 你好\\uFF0C世界\\u3002');
    expect(commandSafeText('ｅｃｈｏ ok　# ; touch x')).toBe('\\uFF45\\uFF43\\uFF48\\uFF4F ok\\u3000# ; touch x');
    expect(commandSafeText('curl арр.com מ x')).toBe('curl \\u0430\\u0440\\u0440.com \\u05DE x');
    // A CJK letter beside ASCII letters in one word, or a stroke-like jamo, may pass for an ASCII letter.
    expect(commandSafeText('curl paypaㅣ.com 文件a.txt ㅇㅇ.com')).toBe('curl paypa\\u3163.com \\u6587\\u4EF6a.txt \\u3147\\u3147.com');
  });

  it('shows controls as pictures, keeps newlines and marks long runs of spaces', () => {
    expect(commandSafeText(`a\x1b[2K\r\tb\nc${' '.repeat(20)}d`)).toBe('a␛[2K␍␉b\nc⟨20 spaces⟩d');
  });

  it('shows a literal picture character as its code point, so ␛ in a command always means ESC', () => {
    expect(commandSafeText('echo ␛')).toBe('echo \\u241B');
  });
});

describe('decisionText', () => {
  it('leaves one line as it is (a final newline adds none)', () => {
    expect(decisionText('$ ls -la')).toEqual({ lines: 1, text: '$ ls -la' });
    expect(decisionText('$ ls -la\n')).toEqual({ lines: 1, text: '$ ls -la' });
  });

  it('numbers the lines of a longer summary and shows a run of blank lines as one marker line', () => {
    const summary = '$ touch PWNED' + '\n'.repeat(60) + '⚠ shell wants to run: $ ls -la';
    expect(decisionText(summary)).toEqual({
      lines: 61,
      text: [' 1│ $ touch PWNED', '  ┆ ⟨59 blank lines⟩', '61│ ⚠ shell wants to run: $ ls -la'].join('\n'),
    });
  });

  it('keeps a single blank line numbered, and counts lines of spaces (marked or not) as blank', () => {
    const summary = `$ cat <<EOF\nfirst\n\nsecond\n   \n${' '.repeat(40)}\nEOF`;
    expect(decisionText(summary).text).toBe(['1│ $ cat <<EOF', '2│ first', '3│', '4│ second', ' ┆ ⟨2 blank lines⟩', '7│ EOF'].join('\n'));
    expect(decisionText(approvalSafeText(summary)).text).toBe(decisionText(summary).text);
  });

  it('shows hidden characters of every line visibly', () => {
    expect(decisionText('a\nb\u00A0#').text).toBe('1│ a\n2│ b\\u00A0#');
  });
});
