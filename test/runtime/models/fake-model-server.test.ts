// The fake model server speaks streaming chat completions as providers do, checked with a plain fetch client.
/* eslint-disable @typescript-eslint/no-explicit-any -- the test inspects arbitrary JSON chunks */
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeModel } from '../../fakes/model-server.js';

let fake: FakeModel | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options?: Parameters<typeof startFakeModel>[0]): Promise<FakeModel> {
  fake = await startFakeModel(options);
  return fake;
}

interface ParsedStream {
  events: Array<Record<string, any>>;
  done: boolean;
}

/** Reads a whole SSE body into its data events; deliberately independent of runtime/models. */
async function post(model: FakeModel, body: Record<string, unknown>): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(`${model.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function parseSse(text: string): ParsedStream {
  const events: Array<Record<string, any>> = [];
  let done = false;
  for (const block of text.split('\n\n')) {
    const line = block.trim();
    if (!line) continue;
    expect(line.startsWith('data: ')).toBe(true);
    const data = line.slice('data: '.length);
    if (data === '[DONE]') done = true;
    else events.push(JSON.parse(data) as Record<string, any>);
  }
  return { events, done };
}

function contentOf(stream: ParsedStream): string[] {
  return stream.events.map((e) => e.choices?.[0]?.delta?.content).filter((c): c is string => typeof c === 'string' && c !== '');
}

const user = (content: string) => ({ model: 'm', stream: true, messages: [{ role: 'user', content }] });

describe('fake model server', () => {
  it('echoes the last user message in three streamed chunks, ending with stop and [DONE]', async () => {
    const model = await start();
    const res = await post(model, user('hello there'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const stream = parseSse(res.text);
    expect(contentOf(stream)).toHaveLength(3);
    expect(contentOf(stream).join('')).toBe('echo: hello there');
    expect(stream.events.at(-1)?.choices[0].finish_reason).toBe('stop');
    expect(stream.events.every((e) => e.object === 'chat.completion.chunk')).toBe(true);
    expect(stream.done).toBe(true);
  });

  it('records every request with its headers and body', async () => {
    const model = await start();
    await fetch(`${model.url}/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer abc', 'content-type': 'application/json' }, body: JSON.stringify(user('one')) });
    await post(model, user('two'));
    await model.waitForRequests(2);
    expect(model.requests).toHaveLength(2);
    expect(model.requests[0]?.headers.authorization).toBe('Bearer abc');
    expect(model.requests[1]?.body.messages[0].content).toBe('two');
  });

  it('turns "!tool name {json}" into one tool call streamed in fragments', async () => {
    const model = await start();
    const stream = parseSse((await post(model, user('!tool shell {"command":"ls -la","timeout_s":5}'))).text);
    const fragments = stream.events.flatMap((e) => e.choices?.[0]?.delta?.tool_calls ?? []);
    expect(fragments.length).toBeGreaterThan(2);
    expect(fragments[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'shell' } });
    expect(typeof fragments[0].id).toBe('string');
    const args = fragments.map((f: any) => f.function?.arguments ?? '').join('');
    expect(JSON.parse(args)).toEqual({ command: 'ls -la', timeout_s: 5 });
    expect(stream.events.at(-1)?.choices[0].finish_reason).toBe('tool_calls');
  });

  it('answers a tool result with "done: " and the first 200 characters', async () => {
    const model = await start();
    const long = 'x'.repeat(300);
    const body = {
      model: 'm',
      stream: true,
      messages: [
        { role: 'user', content: '!tool list_dir {}' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'list_dir', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: long },
      ],
    };
    expect(contentOf(parseSse((await post(model, body)).text)).join('')).toBe(`done: ${'x'.repeat(200)}`);
  });

  it('streams "!slow ms text" word by word', async () => {
    const model = await start();
    const stream = parseSse((await post(model, user('!slow 5 one two three'))).text);
    expect(contentOf(stream)).toEqual(['one ', 'two ', 'three']);
  });

  it('plays queued replies in order, then falls back to the default', async () => {
    const model = await start();
    model.enqueue({ chunks: ['a', 'b'] }, { toolCalls: [{ name: 'read_file', arguments: '{"path":"x"' }] });
    expect(contentOf(parseSse((await post(model, user('q'))).text))).toEqual(['a', 'b']);
    const second = parseSse((await post(model, user('q'))).text);
    const args = second.events.flatMap((e) => e.choices?.[0]?.delta?.tool_calls ?? []).map((f: any) => f.function?.arguments ?? '').join('');
    expect(args).toBe('{"path":"x"');
    expect(contentOf(parseSse((await post(model, user('q'))).text)).join('')).toBe('echo: q');
  });

  it('uses a custom default reply when given one', async () => {
    const model = await start({ defaultReply: (body) => ({ chunks: [`n=${body.messages.length}`] }) });
    expect(contentOf(parseSse((await post(model, user('q'))).text))).toEqual(['n=1']);
  });

  it('sends a usage chunk only when stream_options.include_usage is set', async () => {
    const model = await start();
    model.enqueue({ chunks: ['hi'], usage: { prompt_tokens: 7, completion_tokens: 3 } }, { chunks: ['hi'] });
    const withUsage = parseSse((await post(model, { ...user('q'), stream_options: { include_usage: true } })).text);
    expect(withUsage.events.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } });
    const without = parseSse((await post(model, user('q'))).text);
    expect(without.events.some((e) => e.usage)).toBe(false);
  });

  it('answers an error status with an OpenAI error body and Retry-After', async () => {
    const model = await start();
    model.enqueue({ status: 429, retryAfter: '3' }, { status: 400, message: 'max_tokens is too large' });
    const limited = await post(model, user('q'));
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('3');
    expect(JSON.parse(limited.text).error.type).toBe('rate_limit_error');
    const bad = await post(model, user('q'));
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error.message).toBe('max_tokens is too large');
  });

  it('cuts the connection after failAfterChunks chunks', async () => {
    const model = await start();
    model.enqueue({ chunks: ['a', 'b', 'c'], failAfterChunks: 1 });
    const res = await fetch(`${model.url}/chat/completions`, { method: 'POST', body: JSON.stringify(user('q')) });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it('puts an error object in the stream when asked', async () => {
    const model = await start();
    model.enqueue({ chunks: ['a'], streamError: 'overloaded' });
    const stream = parseSse((await post(model, user('q'))).text);
    expect(stream.events.at(-1)).toMatchObject({ error: { message: 'overloaded' } });
    expect(stream.done).toBe(false);
  });

  it('hangs until the client aborts, and closes cleanly while a request hangs', async () => {
    const model = await start();
    model.enqueue({ hang: true }, { hang: true });
    const controller = new AbortController();
    const pending = fetch(`${model.url}/chat/completions`, { method: 'POST', body: JSON.stringify(user('q')), signal: controller.signal });
    await model.waitForRequests(1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    const second = fetch(`${model.url}/chat/completions`, { method: 'POST', body: JSON.stringify(user('q')) });
    await model.waitForRequests(2);
    await model.close();
    fake = undefined;
    await expect(second).rejects.toThrow();
  });

  it('lists a model at GET /v1/models and answers non-streaming requests whole', async () => {
    const model = await start();
    const models = (await (await fetch(`${model.url}/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data[0]?.id).toBe('fake-model');
    const whole = JSON.parse((await post(model, { model: 'm', messages: [{ role: 'user', content: 'q' }] })).text);
    expect(whole.choices[0].message.content).toBe('echo: q');
  });

  it('refuses requests without the configured API key, on every route', async () => {
    const model = await start({ apiKey: 'sk-fake-key-123456', models: ['a', 'b'] });
    expect((await post(model, user('q'))).status).toBe(401);
    expect((await fetch(`${model.url}/models`)).status).toBe(401);
    const auth = { authorization: 'Bearer sk-fake-key-123456' };
    const ok = await fetch(`${model.url}/chat/completions`, { method: 'POST', headers: auth, body: JSON.stringify(user('q')) });
    expect(ok.status).toBe(200);
    await ok.text();
    const listed = (await (await fetch(`${model.url}/models`, { headers: auth })).json()) as { data: Array<{ id: string }> };
    expect(listed.data.map((m) => m.id)).toEqual(['a', 'b']);
    expect(model.requests).toHaveLength(2);
  });

  it('waitForRequests rejects with what arrived when too few came', async () => {
    const model = await start();
    await expect(model.waitForRequests(1, 50)).rejects.toThrow(/got 0/);
  });
});
