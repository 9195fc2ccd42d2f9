// An instant OpenAI-compatible model for benchmarks, run as its own process: every answer is "ok", streamed at once (unless told to hold or to answer long).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const created = Math.floor(Date.now() / 1000);
const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model: 'instant', choices, ...extra })}\n\n`;
// Rendered once: the point is to cost the runtime nothing it would not pay with a real provider.
const REPLY_TEXT = 'ok';
const STREAM =
  chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]) +
  chunk([{ index: 0, delta: { content: REPLY_TEXT }, finish_reason: null }]) +
  chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]);
const USAGE = chunk([], { usage: { prompt_tokens: 10, completion_tokens: 1, total_tokens: 11 } });
const DONE = 'data: [DONE]\n\n';

/** The number after `!<directive>` in the last message, or 0. */
function directive(body: string, name: string, max: number): number {
  try {
    const messages = (JSON.parse(body) as { messages?: Array<{ content?: unknown }> }).messages ?? [];
    const last = messages[messages.length - 1]?.content;
    const m = typeof last === 'string' ? new RegExp(`^!${name} (\\d+)`).exec(last) : null;
    return m ? Math.min(max, Number(m[1])) : 0;
  } catch {
    return 0;
  }
}

/** `!hold <ms>` as the last message keeps a worker busy that long (to measure the POST path alone). */
const holdMs = (body: string) => directive(body, 'hold', 60_000);

/** `!long <chars>`: an answer of that many characters in paragraphs of words (to measure chunked replies). */
function longStream(body: string): string | undefined {
  const size = directive(body, 'long', 100_000);
  if (size === 0) return undefined;
  const paragraph = `${'word '.repeat(79)}end.\n\n`;
  const text = paragraph.repeat(Math.ceil(size / paragraph.length)).slice(0, size);
  return (
    chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]) +
    chunk([{ index: 0, delta: { content: text }, finish_reason: null }]) +
    chunk([{ index: 0, delta: {}, finish_reason: 'stop' }])
  );
}

let answered = 0;
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/v1/models')) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [{ id: 'instant', object: 'model', created, owned_by: 'bench' }] }));
    return;
  }
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => {
    answered++;
    const body = Buffer.concat(parts).toString('utf8');
    const answer = () => {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      const stream = body.includes('!long') ? (longStream(body) ?? STREAM) : STREAM;
      res.end(stream + (body.includes('"include_usage":true') ? USAGE : '') + DONE);
    };
    const hold = body.includes('!hold') ? holdMs(body) : 0;
    if (hold > 0) setTimeout(answer, hold);
    else answer();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`instant model listening on http://127.0.0.1:${port}/v1\n`);
});
process.on('SIGTERM', () => {
  process.stdout.write(`instant model answered ${answered} requests\n`);
  server.close();
  server.closeAllConnections();
});
