// Splits a reply into messages within a platform's limit, and cuts text short: whole graphemes, natural boundaries, fences kept.

/** Room left under the platform limit (fence closers, platform quirks). */
export function chunkLimit(textLimit: number): number {
  return Math.max(16, textLimit - Math.max(8, Math.ceil(textLimit * 0.025)));
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/**
 * Node 20's segmenter takes time quadratic in the length of the string it walks (15,000
 * characters: 0.1 s; 150,000: a minute, the event loop blocked), so text is walked in windows.
 */
const SEGMENT_WINDOW = 512;
/** A window holding one grapheme only grows up to this; past it, the pile of marks is cut (graphemes() splits it anyway). */
const SEGMENT_WINDOW_MAX = 4096;
/** No \r (it joins a following \n) and nothing that joins the character before it. */
const PLAIN_ASCII = /^[\x20-\x7e\n\t]*$/;

/** The graphemes of `text`, in order, found window by window from one grapheme boundary to the next. */
export function graphemesOf(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let window = SEGMENT_WINDOW;
  while (start < text.length) {
    let end = Math.min(text.length, start + window);
    // Never end a window between the halves of a surrogate pair.
    if (end < text.length && /[\uD800-\uDBFF]/.test(text[end - 1]!)) end--;
    const slice = text.slice(start, end);
    // Printable ASCII and line feeds are a grapheme each (the segmenter costs microseconds a grapheme).
    const parts = PLAIN_ASCII.test(slice) ? slice.split('') : Array.from(segmenter.segment(slice), (s) => s.segment);
    if (end < text.length) {
      // The window's last grapheme may go on past its end: it is found again by the next window.
      if (parts.length > 1) parts.pop();
      else if (window < SEGMENT_WINDOW_MAX) {
        window *= 2;
        continue;
      }
    }
    for (const p of parts) {
      out.push(p);
      start += p.length;
    }
    window = SEGMENT_WINDOW;
  }
  return out;
}

/**
 * A fence's language is repeated when the fence is reopened in the next chunk, so only a short,
 * word-like one is taken ("ts", "c++", "objective-c"); anything else on the opening line would
 * ride along in every chunk (a 5,000-character "language" once left one character per message).
 */
const FENCE_LANGUAGE = /^[\w.+#-]{1,20}$/;
/** The most a reopened fence adds to one chunk: "```" + language + "\n" before, "\n```" after. */
const FENCE_OVERHEAD = 3 + 20 + 1 + 4;
/**
 * Longest grapheme kept whole. Real ones (flags, tag flags, ZWJ families with skin tones) are
 * at most about a dozen code points; a longer one is a pile of combining marks, cut by code
 * points, so a cut never wastes more than this much of a chunk.
 */
const MAX_GRAPHEME = 32;

export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

interface Piece {
  text: string;
  /** Code points. */
  size: number;
}

/** Graphemes with their code-point sizes; one longer than `maxSize` goes by code points. */
function graphemes(text: string, maxSize: number): Piece[] {
  const out: Piece[] = [];
  for (const g of graphemesOf(text)) {
    // One UTF-16 unit is one code point, except a lone surrogate (also one); longer ones are counted.
    const size = g.length === 1 ? 1 : codePoints(g);
    if (size <= maxSize) out.push({ text: g, size });
    else for (const cp of g) out.push({ text: cp, size: 1 });
  }
  return out;
}

/** The longest start of `text` of whole graphemes within `max` code points. */
export function firstGraphemes(text: string, max: number): string {
  let out = '';
  let size = 0;
  for (const g of graphemesOf(text)) {
    const n = codePoints(g);
    if (size + n > max) break;
    out += g;
    size += n;
  }
  return out;
}

/** The longest end of `text` of whole graphemes within `max` code points. */
export function lastGraphemes(text: string, max: number): string {
  const gs = graphemesOf(text);
  let size = 0;
  let i = gs.length;
  while (i > 0 && size + codePoints(gs[i - 1]!) <= max) size += codePoints(gs[--i]!);
  return gs.slice(i).join('');
}

/** `text` within `max` code points: as it is when it fits, else its start on a grapheme boundary and "…". */
export function shortenText(text: string, max: number): string {
  return codePoints(text) <= max ? text : firstGraphemes(text, max - 1) + '…';
}

/**
 * Where to cut `gs` so the head has at most `budget` code points: the last paragraph break,
 * else line break, else space, else the last whole grapheme that fits. A boundary is taken only
 * when the head keeps at least `minTake` code points (see chunkText). Returns the count of
 * graphemes in the head (at least 1).
 */
function cutPoint(gs: Piece[], budget: number, minTake: number): number {
  let size = 0;
  let fit = 0;
  const para = { at: -1, size: 0 };
  const line = { at: -1, size: 0 };
  const space = { at: -1, size: 0 };
  for (let i = 0; i < gs.length; i++) {
    const g = gs[i]!;
    if (size + g.size > budget) break;
    size += g.size;
    fit = i + 1;
    const boundary = g.text === '\n' || g.text === '\r\n' ? (i > 0 && (gs[i - 1]!.text === '\n' || gs[i - 1]!.text === '\r\n') ? para : line) : /^\s+$/u.test(g.text) ? space : undefined;
    if (boundary) {
      boundary.at = i + 1;
      boundary.size = size;
    }
  }
  if (fit === gs.length) return fit;
  // Prefer a boundary only when it keeps the chunk reasonably full.
  const floor = Math.floor(fit / 3);
  for (const b of [para, line, space]) if (b.at > floor && b.size >= minTake) return b.at;
  return Math.max(1, fit);
}

/** The language of the fence left open at the end of `text` ('' for none given), or undefined when all are closed. */
export function openFence(text: string, startOpen: string | undefined): string | undefined {
  let open = startOpen;
  for (const line of text.split('\n')) {
    const m = /^\s*```(.*)$/.exec(line);
    if (!m) continue;
    const info = m[1]!.trim();
    open = open === undefined ? (FENCE_LANGUAGE.test(info) ? info : '') : undefined;
  }
  return open;
}

export interface ChunkOptions {
  /** Close a ``` block cut in two and reopen it in the next chunk (default). Off for text shown verbatim, like a command. */
  fences?: boolean;
}

/**
 * Splits `text` into chunks of at most `limit` code points, in order. A ``` block cut in two is
 * closed at the end of one chunk and reopened, with its language, at the start of the next.
 *
 * The count is bounded by the length: at most ⌈length / full⌉ + 1 chunks, where `full` is the
 * least a cut at the limit carries (the limit less a reopened fence and one grapheme). Natural
 * boundaries are preferred only while what is left still fits in what is left of that bound.
 */
export function chunkText(text: string, limit: number, options: ChunkOptions = {}): string[] {
  // A whitespace-only message is refused by platforms ("message text is empty").
  if (text.trim() === '') return [];
  const total = codePoints(text);
  if (total <= limit) return [text];
  const fences = options.fences ?? true;
  const maxGrapheme = Math.min(MAX_GRAPHEME, limit);
  const full = Math.max(1, limit - (fences ? FENCE_OVERHEAD : 0) - (maxGrapheme - 1));
  let allowance = Math.ceil(total / full) + 1;
  const out: string[] = [];
  let rest = graphemes(text, maxGrapheme);
  let restSize = total;
  let fence: string | undefined;
  const join = (k: number) =>
    rest
      .slice(0, k)
      .map((g) => g.text)
      .join('');
  while (rest.length > 0) {
    const opener = fences && fence !== undefined ? '```' + fence + '\n' : '';
    const openerSize = codePoints(opener);
    if (openerSize + restSize <= limit) {
      // What is left after the last cut may be only spaces: nothing a reader would miss.
      const tail = join(rest.length);
      if (tail.trim() !== '') out.push(opener + tail);
      break;
    }
    allowance--;
    // After this chunk the rest must still fit in the chunks left, each carrying at least `full`.
    const minTake = restSize - allowance * full;
    const budget = Math.max(1, limit - openerSize);
    let n = cutPoint(rest, budget, minTake);
    // A chunk that ends inside a fence needs room for its closer ("\n```").
    if (fences && openFence(join(n), fence) !== undefined) n = cutPoint(rest, Math.max(1, budget - 4), minTake);
    const body = join(n);
    restSize -= codePoints(body);
    rest = rest.slice(n);
    // Leading line breaks of the next chunk carry nothing a reader would miss.
    while (rest.length > 1 && (rest[0]!.text === '\n' || rest[0]!.text === '\r\n')) {
      restSize -= rest[0]!.size;
      rest = rest.slice(1);
    }
    const stillOpen = fences ? openFence(body, fence) : undefined;
    let chunk = opener + body.replace(/\s+$/u, '') + (stillOpen !== undefined ? '\n```' : '');
    // Only with a tiny limit can the fence marks not fit: the content wins, the marks go.
    if (codePoints(chunk) > limit) chunk = body.replace(/\s+$/u, '');
    if (chunk.trim() !== '') out.push(chunk);
    fence = stillOpen;
  }
  return out;
}
