// Splits a reply into messages within a platform's limit: whole graphemes, natural boundaries, fences kept.

/** Room left under the platform limit (fence closers, platform quirks). */
export function chunkLimit(textLimit: number): number {
  return Math.max(16, textLimit - Math.max(8, Math.ceil(textLimit * 0.025)));
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

interface Piece {
  text: string;
  /** Code points. */
  size: number;
}

/**
 * Graphemes with their code-point sizes; a grapheme is never split, unless it alone is longer
 * than `maxSize` (a letter with thousands of combining marks): then the platform would refuse
 * it whole, so it goes by code points.
 */
function graphemes(text: string, maxSize: number): Piece[] {
  return Array.from(segmenter.segment(text), (s) => ({ text: s.segment, size: codePoints(s.segment) })).flatMap((g) =>
    g.size > maxSize ? Array.from(g.text, (cp) => ({ text: cp, size: 1 })) : [g],
  );
}

/**
 * Where to cut `gs` so the head has at most `budget` code points: the last paragraph break,
 * else line break, else space, else the last whole grapheme that fits. Returns the count of
 * graphemes in the head (at least 1).
 */
function cutPoint(gs: Piece[], budget: number): number {
  let size = 0;
  let fit = 0;
  let para = -1;
  let line = -1;
  let space = -1;
  for (let i = 0; i < gs.length; i++) {
    const g = gs[i]!;
    if (size + g.size > budget) break;
    size += g.size;
    fit = i + 1;
    if (g.text === '\n' || g.text === '\r\n') {
      if (i > 0 && (gs[i - 1]!.text === '\n' || gs[i - 1]!.text === '\r\n')) para = i + 1;
      else line = i + 1;
    } else if (/^\s+$/u.test(g.text)) space = i + 1;
  }
  if (fit === gs.length) return fit;
  // Prefer a boundary only when it keeps the chunk reasonably full.
  const floor = Math.floor(fit / 3);
  for (const b of [para, line, space]) if (b > floor) return b;
  return Math.max(1, fit);
}

/** The language of the fence left open at the end of `text`, or undefined when all are closed. */
export function openFence(text: string, startOpen: string | undefined): string | undefined {
  let open = startOpen;
  for (const line of text.split('\n')) {
    const m = /^\s*```(.*)$/.exec(line);
    if (!m) continue;
    open = open === undefined ? m[1]!.trim() : undefined;
  }
  return open;
}

/**
 * Splits `text` into chunks of at most `limit` code points, in order. A ``` block cut in two is
 * closed at the end of one chunk and reopened, with its language, at the start of the next.
 */
export function chunkText(text: string, limit: number): string[] {
  // A whitespace-only message is refused by platforms ("message text is empty").
  if (text.trim() === '') return [];
  if (codePoints(text) <= limit) return [text];
  const out: string[] = [];
  // Room for a reopened fence ("```" + a short language + "\n") keeps every piece placeable.
  let rest = graphemes(text, limit > 64 ? limit - 24 : limit);
  let fence: string | undefined;
  while (rest.length > 0) {
    const opener = fence !== undefined ? '```' + fence + '\n' : '';
    const budget = Math.max(1, limit - codePoints(opener));
    const whole = opener + rest.map((g) => g.text).join('');
    if (codePoints(whole) <= limit) {
      // What is left after the last cut may be only spaces: nothing a reader would miss.
      if (rest.some((g) => g.text.trim() !== '')) out.push(whole);
      break;
    }
    const join = (k: number) =>
      rest
        .slice(0, k)
        .map((g) => g.text)
        .join('');
    let n = cutPoint(rest, budget);
    // A chunk that ends inside a fence needs room for its closer ("\n```").
    if (openFence(join(n), fence) !== undefined) n = cutPoint(rest, Math.max(1, budget - 4));
    const body = join(n);
    rest = rest.slice(n);
    // Leading line breaks of the next chunk carry nothing a reader would miss.
    while (rest.length > 1 && (rest[0]!.text === '\n' || rest[0]!.text === '\r\n')) rest = rest.slice(1);
    const stillOpen = openFence(body, fence);
    let chunk = opener + body.replace(/\s+$/u, '');
    if (stillOpen !== undefined) chunk += '\n```';
    if (chunk.trim() !== '') out.push(chunk);
    fence = stillOpen;
  }
  return out;
}
