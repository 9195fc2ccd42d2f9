// The SSE parser yields the same events however the network splits the text.
import { describe, expect, it } from 'vitest';
import { createSseParser, type SseEvent } from '../../../runtime/models/sse-parser.js';

function parse(pieces: string[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = createSseParser((e) => events.push(e));
  for (const p of pieces) parser.push(p);
  parser.end();
  return events;
}

const STREAM = ': keep-alive\n\ndata: {"a":1}\n\nevent: error\ndata: {"b":\ndata: 2}\n\ndata:[DONE]\n\n';
const EXPECTED: SseEvent[] = [
  { event: 'message', data: '{"a":1}' },
  { event: 'error', data: '{"b":\n2}' },
  { event: 'message', data: '[DONE]' },
];

describe('SSE parser', () => {
  it.each([
    ['LF', STREAM],
    ['CRLF', STREAM.replace(/\n/g, '\r\n')],
    ['CR', STREAM.replace(/\n/g, '\r')],
  ])('reads %s line ends split at every possible position', (_name, text) => {
    for (let cut = 0; cut <= text.length; cut++) {
      expect(parse([text.slice(0, cut), text.slice(cut)])).toEqual(EXPECTED);
    }
  });

  it('reads a stream fed one character at a time', () => {
    expect(parse(Array.from(STREAM.replace(/\n/g, '\r\n')))).toEqual(EXPECTED);
  });

  it('ignores comments, id and retry fields and events without data', () => {
    expect(parse([':ping\nid: 7\nretry: 100\n\nevent: x\n\ndata: y\n\n'])).toEqual([{ event: 'message', data: 'y' }]);
  });

  it('delivers a last event that was not closed by a blank line', () => {
    expect(parse(['data: {"tail":true}'])).toEqual([{ event: 'message', data: '{"tail":true}' }]);
  });

  it('keeps a space inside the value and strips only the first after the colon', () => {
    expect(parse(['data:  two spaces\n\n'])).toEqual([{ event: 'message', data: ' two spaces' }]);
  });
});
