// Incremental server-sent-events parser: text arrives in arbitrary network pieces, events come out whole.

export interface SseEvent {
  /** The `event:` field, or 'message'. */
  event: string;
  /** The `data:` lines of the event, joined with "\n". */
  data: string;
}

export interface SseParser {
  /** Feeds decoded text; calls onEvent for every event completed by it. */
  push(text: string): void;
  /** The stream ended: an event not yet closed by a blank line is delivered too. */
  end(): void;
}

/**
 * Follows the WHATWG event-stream rules that matter for model streams: LF, CRLF and CR line ends
 * (a CRLF split across two pieces counts once), comment lines (": keep-alive"), one optional space
 * after the colon, and multi-line data. `id:` and `retry:` are ignored: a model stream is not resumed.
 */
export function createSseParser(onEvent: (event: SseEvent) => void): SseParser {
  let buffer = '';
  let data: string[] = [];
  let eventName = '';
  let lastWasCr = false;

  const dispatch = () => {
    if (data.length > 0) onEvent({ event: eventName || 'message', data: data.join('\n') });
    data = [];
    eventName = '';
  };

  const line = (text: string) => {
    if (text === '') return dispatch();
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') eventName = value;
  };

  return {
    push(text) {
      let start = 0;
      let input = text;
      if (lastWasCr && input.startsWith('\n')) input = input.slice(1);
      lastWasCr = false;
      buffer += input;
      // Scan only the buffer: lines complete when their terminator arrives.
      for (let i = 0; i < buffer.length; i++) {
        const ch = buffer[i];
        if (ch !== '\n' && ch !== '\r') continue;
        line(buffer.slice(start, i));
        if (ch === '\r') {
          if (i + 1 < buffer.length) {
            if (buffer[i + 1] === '\n') i++;
          } else {
            lastWasCr = true;
          }
        }
        start = i + 1;
      }
      buffer = buffer.slice(start);
    },
    end() {
      if (buffer !== '') line(buffer);
      buffer = '';
      dispatch();
    },
  };
}
