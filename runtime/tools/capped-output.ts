// Collects a process's output up to a byte cap, keeping the head and the tail and saying how much was cut.
import { dropSecretFragmentsAtCut } from '../../lib/log.js';
import { formatBytes, utf8CutBefore, utf8StartAfter } from './measure.js';

export class CappedOutput {
  private readonly headMax: number;
  private readonly tailMax: number;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  // Chunks covering at least the last tailMax bytes after the head filled; trimmed as it grows.
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;
  private newlines = 0;
  private lastByte: number | undefined;

  constructor(readonly max: number) {
    this.headMax = Math.floor(max / 2);
    this.tailMax = max - this.headMax;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.total += chunk.length;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.newlines++;
    this.lastByte = chunk[chunk.length - 1];
    let rest = chunk;
    if (this.headBytes < this.headMax) {
      const take = Math.min(this.headMax - this.headBytes, rest.length);
      this.head.push(Buffer.from(rest.subarray(0, take)));
      this.headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    this.tail.push(Buffer.from(rest));
    this.tailBytes += rest.length;
    while (this.tail.length > 1 && this.tailBytes - (this.tail[0]?.length ?? 0) >= this.tailMax) {
      this.tailBytes -= this.tail.shift()?.length ?? 0;
    }
  }

  get totalBytes(): number {
    return this.total;
  }

  get lineCount(): number {
    if (this.total === 0) return 0;
    return this.lastByte === 10 ? this.newlines : this.newlines + 1;
  }

  get wasCut(): boolean {
    return this.total > this.max;
  }

  /** The output as text: whole when it fit, else head + a note of what was cut + tail. */
  text(): string {
    const head = Buffer.concat(this.head);
    const tailAll = Buffer.concat(this.tail);
    if (!this.wasCut) return Buffer.concat([head, tailAll]).toString('utf8');
    const headEnd = utf8CutBefore(head, head.length);
    const tailStart = utf8StartAfter(tailAll, Math.max(0, tailAll.length - this.tailMax));
    // A secret straddling a cut would survive scrubbing as a fragment: drop it with the middle.
    const before = head.subarray(0, headEnd).toString('utf8');
    const after = tailAll.subarray(tailStart).toString('utf8');
    const kept = dropSecretFragmentsAtCut(before, after);
    // Counted in the raw bytes: decoding may have turned invalid bytes into wider U+FFFD.
    const dropped = Buffer.byteLength(before.slice(kept.before.length)) + Buffer.byteLength(after.slice(0, after.length - kept.after.length));
    const cut = this.total - headEnd - (tailAll.length - tailStart) + dropped;
    const note = `\n[… ${formatBytes(cut)} (${cut} bytes) cut from the middle of ${formatBytes(this.total)} of output …]\n`;
    return kept.before + note + kept.after;
  }
}
