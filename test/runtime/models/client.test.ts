// The model client against the fake model server: streaming, tool calls, usage, retries, errors, aborts and timeouts.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRuntimeConfig, type RuntimeConfig } from '../../../lib/config.js';
import { createLogger, silentLogger } from '../../../lib/log.js';
import { createModelClient, type ClosableModelClient, type ModelCallInfo, type ModelClientOptions } from '../../../runtime/models/client.js';
import { ModelError } from '../../../runtime/models/errors.js';
import type { CompletionRequest, ToolSchema } from '../../../runtime/models/types.js';
import { startFakeModel, type FakeModel } from '../../fakes/model-server.js';

const KEY = 'sk-test-abcdefghijklmnop0123456789';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeModel(): Promise<FakeModel> {
  const fake = await startFakeModel();
  cleanups.push(() => fake.close());
  return fake;
}

function configFor(baseUrl: string, env: Record<string, string> = {}): RuntimeConfig {
  return loadRuntimeConfig({ TETHER_PROVIDER: 'openai', TETHER_BASE_URL: baseUrl, OPENAI_API_KEY: KEY, TETHER_MODEL: 'test-model', ...env });
}

const FAST: ModelClientOptions = { backoff: { baseMs: 5, maxMs: 20 } };

function client(config: RuntimeConfig, options: ModelClientOptions = {}): ClosableModelClient {
  const c = createModelClient(config, silentLogger, { ...FAST, ...options });
  cleanups.push(() => c.close());
  return c;
}

function ask(text: string, extra: Partial<CompletionRequest> = {}): CompletionRequest & { deltas: string[] } {
  const deltas: string[] = [];
  return { model: 'test-model', messages: [{ role: 'user', content: text }], tools: [], signal: new AbortController().signal, onDelta: (t) => deltas.push(t), deltas, ...extra };
}

async function failure(promise: Promise<unknown>): Promise<ModelError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelError);
  return err as ModelError;
}

const SHELL: ToolSchema = { name: 'shell', description: 'Run a command', parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } };

describe('model client: streaming', () => {
  it('passes content deltas to onDelta in order and returns the whole text', async () => {
    const fake = await fakeModel();
    fake.enqueue({ chunks: ['Hel', 'lo, ', 'wörld ✓'] });
    const req = ask('hi');
    const result = await client(configFor(fake.url)).complete(req);
    expect(req.deltas).toEqual(['Hel', 'lo, ', 'wörld ✓']);
    expect(result.text).toBe('Hello, wörld ✓');
    expect(result.finishReason).toBe('stop');
    expect(result.toolCalls).toEqual([]);
  });

  it('sends model, wire-shaped messages, tools, the key and provider headers', async () => {
    const fake = await fakeModel();
    const config = configFor(fake.url, { TETHER_PROVIDER: 'openrouter', OPENROUTER_API_KEY: KEY });
    const req = ask('', {
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'list' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', name: 'shell', arguments: '{"command":"ls"}' }] },
        { role: 'tool', tool_call_id: 'c1', content: 'a.txt' },
      ],
      tools: [SHELL],
    });
    await client(config).complete(req);
    const sent = fake.requests[0];
    expect(sent?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent?.headers['x-title']).toBe('Tether');
    expect(sent?.body).toMatchObject({ model: 'test-model', stream: true, stream_options: { include_usage: true } });
    expect(sent?.body.messages[2]).toEqual({ role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'shell', arguments: '{"command":"ls"}' } }] });
    expect(sent?.body.messages[3]).toEqual({ role: 'tool', tool_call_id: 'c1', content: 'a.txt' });
    expect(sent?.body.tools).toEqual([{ type: 'function', function: { name: 'shell', description: 'Run a command', parameters: SHELL.parameters } }]);
    expect(req.deltas.join('')).toBe('done: a.txt');
  });

  it('omits tools when there are none, stream_options when the provider has no stream usage, and Authorization without a key', async () => {
    const fake = await fakeModel();
    const config = loadRuntimeConfig({ TETHER_PROVIDER: 'ollama', TETHER_BASE_URL: fake.url });
    const result = await client(config).complete(ask('plain', { model: config.model }));
    const sent = fake.requests[0];
    expect(sent?.body.tools).toBeUndefined();
    expect(sent?.body.stream_options).toBeUndefined();
    expect(sent?.headers.authorization).toBeUndefined();
    expect(result.usage).toBeUndefined();
    expect(result.text).toBe('echo: plain');
  });

  it('assembles tool calls streamed as fragments, in index order', async () => {
    const fake = await fakeModel();
    fake.enqueue({ chunks: ['Let me look. '], toolCalls: [{ name: 'list_dir', arguments: { path: 'src' } }, { name: 'read_file', arguments: { path: 'src/a b.ts', limit: 20 } }] });
    const req = ask('look', { tools: [SHELL] });
    const result = await client(configFor(fake.url)).complete(req);
    expect(result.finishReason).toBe('tool_calls');
    expect(result.text).toBe('Let me look. ');
    expect(result.toolCalls.map((c) => [c.name, JSON.parse(c.arguments)])).toEqual([
      ['list_dir', { path: 'src' }],
      ['read_file', { path: 'src/a b.ts', limit: 20 }],
    ]);
    expect(new Set(result.toolCalls.map((c) => c.id)).size).toBe(2);
    expect(req.deltas).toEqual(['Let me look. ']);
  });

  it('keeps parallel tool calls apart when the server reuses index 0 (Ollama)', async () => {
    const fake = await fakeModel();
    fake.enqueue({ toolCalls: [{ name: 'write_file', arguments: { path: 'hello.py', content: 'print(1)' } }, { name: 'write_file', arguments: { path: 'world.py', content: 'print(2)' } }], reuseToolIndex: true });
    const result = await client(configFor(fake.url)).complete(ask('two files'));
    expect(result.toolCalls.map((c) => JSON.parse(c.arguments).path)).toEqual(['hello.py', 'world.py']);
  });

  it('returns usage from the final chunk when the provider streams usage', async () => {
    const fake = await fakeModel();
    fake.enqueue({ chunks: ['ok'], usage: { prompt_tokens: 12, completion_tokens: 4 } });
    const result = await client(configFor(fake.url)).complete(ask('hi'));
    expect(result.usage).toEqual({ prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 });
  });

  it('reports each call through onCall and logs it at debug without the key', async () => {
    const fake = await fakeModel();
    const calls: ModelCallInfo[] = [];
    const lines: string[] = [];
    const logger = createLogger('test', { level: 'debug', write: (l) => lines.push(l) });
    const c = createModelClient(configFor(fake.url), logger, { ...FAST, onCall: (i) => calls.push(i) });
    cleanups.push(() => c.close());
    fake.enqueue({ status: 503 }, { chunks: ['x'] });
    await c.complete(ask('hi'));
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ ok: true, status: 200, attempts: 2 });
    expect(typeof calls[0]?.latencyMs).toBe('number');
    const record = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((r) => r.msg === 'model call');
    expect(record).toMatchObject({ level: 'debug', model: 'test-model', status: 200, retries: 1, ok: true });
    expect(lines.join('\n')).not.toContain(KEY);
  });
});

describe('model client: servers that stream differently', () => {
  async function rawServer(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const server = createServer(handler);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(() => r())));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  }

  it('reads CRLF events, comments and characters split across network writes', async () => {
    const events = [
      ': this is a comment',
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'naïve ' } }] })}`,
      '',
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: '漢字 🎉' } }] })}`,
      '',
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}`,
      '',
      'data: [DONE]',
      '',
      '',
    ].join('\r\n');
    const bytes = Buffer.from(events, 'utf8');
    const url = await rawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.socket?.setNoDelay(true);
      let i = 0;
      // Seven bytes at a time cuts lines, CRLF pairs and multi-byte characters alike.
      const next = () => {
        if (i >= bytes.length) return void res.end();
        res.write(bytes.subarray(i, i + 7));
        i += 7;
        setTimeout(next, 1);
      };
      next();
    });
    const req = ask('hi');
    const result = await client(configFor(url)).complete(req);
    expect(result.text).toBe('naïve 漢字 🎉');
    expect(req.deltas).toEqual(['naïve ', '漢字 🎉']);
  });

  it('takes a whole JSON answer from a server that ignores stream: true', async () => {
    const url = await rawServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content: 'all at once' }, finish_reason: 'stop' }] }));
    });
    const req = ask('hi');
    expect((await client(configFor(url)).complete(req)).text).toBe('all at once');
    expect(req.deltas).toEqual(['all at once']);
  });
});

describe('model client: retries', () => {
  it('honours Retry-After on 429 before trying again', async () => {
    const fake = await fakeModel();
    fake.enqueue({ status: 429, retryAfter: '1' }, { chunks: ['after the wait'] });
    const result = await client(configFor(fake.url)).complete(ask('hi'));
    expect(result.text).toBe('after the wait');
    expect(fake.requests).toHaveLength(2);
    const [first, second] = fake.requests;
    // timers may fire a millisecond early; the gap is what the fake saw between the two requests
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(995);
  });

  it('retries 5xx answers and succeeds', async () => {
    const fake = await fakeModel();
    fake.enqueue({ status: 500 }, { status: 502 }, { chunks: ['fine now'] });
    const req = ask('hi');
    const result = await client(configFor(fake.url)).complete(req);
    expect(result.text).toBe('fine now');
    expect(req.deltas).toEqual(['fine now']);
    expect(fake.requests).toHaveLength(3);
  });

  it('gives up after the attempts run out, saying so', async () => {
    const fake = await fakeModel();
    fake.enqueue({ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }, { chunks: ['never'] });
    const err = await failure(client(configFor(fake.url), { maxAttempts: 4 }).complete(ask('hi')));
    expect(err.code).toBe('provider_unavailable');
    expect(err.status).toBe(503);
    expect(err.message).toContain('gave up after 4 attempts');
    expect(err.message).toContain(fake.url);
    expect(fake.requests).toHaveLength(4);
  });

  it('retries a stream that broke before any text, without repeating anything', async () => {
    const fake = await fakeModel();
    fake.enqueue({ chunks: ['lost'], failAfterChunks: 0 }, { chunks: ['whole ', 'reply'] });
    const req = ask('hi');
    const result = await client(configFor(fake.url)).complete(req);
    expect(req.deltas).toEqual(['whole ', 'reply']);
    expect(result.text).toBe('whole reply');
    expect(fake.requests).toHaveLength(2);
  });

  it('never retries once text was emitted: a mid-stream break fails with provider_stream_broken', async () => {
    const fake = await fakeModel();
    fake.enqueue({ chunks: ['first ', 'second ', 'third'], failAfterChunks: 1 }, { chunks: ['must not be asked for'] });
    const req = ask('hi');
    const err = await failure(client(configFor(fake.url)).complete(req));
    expect(err.code).toBe('provider_stream_broken');
    expect(req.deltas).toEqual(['first ']);
    expect(fake.requests).toHaveLength(1);
  });

  it('treats an error object inside the stream as an error, retrying only before output', async () => {
    const fake = await fakeModel();
    fake.enqueue({ streamError: 'overloaded' }, { chunks: ['recovered'] }, { chunks: ['partial'], streamError: 'overloaded again' });
    const c = client(configFor(fake.url));
    expect((await c.complete(ask('hi'))).text).toBe('recovered');
    const req = ask('again');
    const err = await failure(c.complete(req));
    expect(err.code).toBe('provider_stream_broken');
    expect(err.message).toContain('overloaded again');
    expect(req.deltas).toEqual(['partial']);
    expect(fake.requests).toHaveLength(3);
  });

  it('fails at once when Retry-After is beyond the cap, saying when to retry', async () => {
    const fake = await fakeModel();
    fake.enqueue({ status: 429, retryAfter: '3600' });
    const err = await failure(client(configFor(fake.url)).complete(ask('hi')));
    expect(err.code).toBe('provider_rate_limited');
    expect(err.message).toMatch(/wait 3600 s/);
    expect(err.message).toMatch(/try again after \d{4}-\d\d-\d\dT/);
    expect(fake.requests).toHaveLength(1);
  });
});

describe('model client: errors that are not retried', () => {
  it('an error thrown by onDelta surfaces as itself, without a retry', async () => {
    const fake = await fakeModel();
    const own = new Error('store is full');
    const req = ask('hi', {
      onDelta: () => {
        throw own;
      },
    });
    await expect(client(configFor(fake.url)).complete(req)).rejects.toBe(own);
    expect(fake.requests).toHaveLength(1);
  });

  it('401 fails at once naming the key variable and never showing the key', async () => {
    const fake = await fakeModel();
    fake.enqueue({ status: 401, message: `Incorrect API key provided: ${KEY}` });
    const err = await failure(client(configFor(fake.url)).complete(ask('hi')));
    expect(err.code).toBe('provider_unauthorized');
    expect(err.status).toBe(401);
    expect(err.message).toContain('the provider refused the API key (401)');
    expect(err.message).toContain('check OPENAI_API_KEY');
    expect(err.message).not.toContain(KEY);
    expect(err.message).not.toContain(KEY.slice(0, 12));
    expect(fake.requests).toHaveLength(1);
  });

  it('403 without any key says which variable to set', async () => {
    const fake = await fakeModel();
    fake.enqueue({ status: 403 });
    const config = loadRuntimeConfig({ TETHER_PROVIDER: 'deepseek', TETHER_BASE_URL: fake.url });
    const err = await failure(client(config).complete(ask('hi')));
    expect(err.code).toBe('provider_unauthorized');
    expect(err.message).toContain('set DEEPSEEK_API_KEY');
  });

  it('404 names TETHER_MODEL and TETHER_BASE_URL', async () => {
    const fake = await fakeModel();
    fake.enqueue({ status: 404, message: 'The model `gpt-9` does not exist' });
    const err = await failure(client(configFor(fake.url)).complete(ask('hi')));
    expect(err.code).toBe('provider_not_found');
    expect(err.message).toContain('TETHER_MODEL');
    expect(err.message).toContain('TETHER_BASE_URL');
    expect(err.message).toContain('does not exist');
    expect(fake.requests).toHaveLength(1);
  });

  it("400 carries the provider's own message", async () => {
    const fake = await fakeModel();
    fake.enqueue({ status: 400, message: "This model's maximum context length is 8192 tokens" });
    const err = await failure(client(configFor(fake.url)).complete(ask('hi')));
    expect(err.code).toBe('provider_bad_request');
    expect(err.message).toContain("maximum context length is 8192 tokens");
    expect(fake.requests).toHaveLength(1);
  });

  it('a base URL that is not an OpenAI-compatible API is reported as such', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>welcome</html>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(() => r())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    const err = await failure(client(configFor(url)).complete(ask('hi')));
    expect(err.code).toBe('provider_not_found');
    expect(err.message).toContain('TETHER_BASE_URL');
  });
});

describe('model client: never hangs', () => {
  it('a provider that never answers fails with provider_timeout naming the base URL', async () => {
    const fake = await fakeModel();
    fake.enqueue({ hang: true }, { chunks: ['not asked'] });
    const err = await failure(client(configFor(fake.url), { headersTimeoutMs: 200 }).complete(ask('hi')));
    expect(err.code).toBe('provider_timeout');
    expect(err.message).toContain(fake.url);
    expect(fake.requests).toHaveLength(1);
  });

  it('a stream that stalls between chunks fails with provider_timeout', async () => {
    const fake = await fakeModel();
    fake.enqueue({ chunks: ['a', 'b'], chunkDelayMs: 5_000 });
    const err = await failure(client(configFor(fake.url), { idleTimeoutMs: 200 }).complete(ask('hi')));
    expect(err.code).toBe('provider_timeout');
    expect(err.message).toContain('stalled');
  });

  it('connection refused fails with provider_unavailable naming the base URL', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const url = `http://127.0.0.1:${port}/v1`;
    const err = await failure(client(configFor(url), { maxAttempts: 2 }).complete(ask('hi')));
    expect(err.code).toBe('provider_unavailable');
    expect(err.message).toContain(url);
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).toContain('gave up after 2 attempts');
  });

  it('abort during a retry wait stops at once without another request', async () => {
    const fake = await fakeModel();
    fake.enqueue({ status: 429, retryAfter: '100' }, { chunks: ['not asked'] });
    const controller = new AbortController();
    const pending = client(configFor(fake.url)).complete(ask('hi', { signal: controller.signal }));
    await fake.waitForRequests(1);
    const reason = new Error('turn cancelled');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(fake.requests).toHaveLength(1);
  });

  it('abort during a stream stops it and rejects with the abort reason', async () => {
    const fake = await fakeModel();
    fake.enqueue({ chunks: ['one ', 'two ', 'three ', 'four'], chunkDelayMs: 300 });
    const controller = new AbortController();
    const reason = new Error('turn cancelled');
    const req = ask('hi', { signal: controller.signal, onDelta: () => controller.abort(reason) });
    await expect(client(configFor(fake.url)).complete(req)).rejects.toBe(reason);
    expect(fake.requests).toHaveLength(1);
  });
});
