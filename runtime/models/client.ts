// The one model client: streaming OpenAI-compatible chat completions over undici, with bounded retries and timeouts.
import { Agent, request } from 'undici';
import pRetry, { AbortError } from 'p-retry';
import type { RuntimeConfig } from '../../lib/config.js';
import type { Logger } from '../../lib/log.js';
import { shownUrl, withoutUrlCredentials } from '../../lib/shown-url.js';
import { VERSION } from '../../lib/version.js';
import { CompletionAssembler } from './completion-assembler.js';
import { classifyHttpFailure, classifyNetworkFailure, ModelError, RETRY_AFTER_CAP_MS, type ProviderIdentity } from './errors.js';
import { DEFAULT_BACKOFF, parseRetryAfter, retryDelay, type BackoffOptions } from './retry-policy.js';
import { createSseParser } from './sse-parser.js';
import type { ChatMessage, CompletionRequest, CompletionResult, ModelClient, ToolSchema } from './types.js';

/** What the runtime core may record per call (e.g. a latency histogram). */
export interface ModelCallInfo {
  latencyMs: number;
  ok: boolean;
  status?: number;
  /** Attempts made, 1 when the first one answered. */
  attempts: number;
  code?: string;
}

export interface ModelClientOptions {
  /** TCP (and TLS) connect; a dead host fails fast. */
  connectTimeoutMs?: number;
  /** Until the response headers arrive; models may think a while before the first byte. */
  headersTimeoutMs?: number;
  /** Longest silence between two pieces of a streaming body. */
  idleTimeoutMs?: number;
  /** Attempts per call, the first included. */
  maxAttempts?: number;
  /** A Retry-After longer than this fails the call at once, saying when to come back. */
  retryAfterCapMs?: number;
  backoff?: BackoffOptions;
  onCall?: (info: ModelCallInfo) => void;
}

export const MODEL_CLIENT_DEFAULTS = {
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 120_000,
  idleTimeoutMs: 120_000,
  maxAttempts: 4,
  retryAfterCapMs: RETRY_AFTER_CAP_MS,
} as const;

/** Bodies of error answers are read only this far; enough for the provider's sentence. */
const ERROR_BODY_MAX = 64 * 1024;

/** The ModelClient plus the lifecycle of its connection pool. */
export interface ClosableModelClient extends ModelClient {
  /** Closes idle keep-alive connections so the process can exit. */
  close(): Promise<void>;
}

/** Internal messages → OpenAI wire shape (tool calls wrapped as functions). */
export function toWireMessages(messages: ChatMessage[]): unknown[] {
  return messages.map((m) => {
    if (m.role !== 'assistant') return m;
    const calls = m.tool_calls ?? [];
    if (calls.length === 0) return { role: 'assistant', content: m.content ?? '' };
    return { role: 'assistant', content: m.content, tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) };
  });
}

export function toWireTools(tools: ToolSchema[]): unknown[] {
  return tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.parameters } }));
}

/** The JSON body of one streaming chat-completion request. */
export function buildCompletionBody(request: Pick<CompletionRequest, 'model' | 'messages' | 'tools'>, streamUsage: boolean): Record<string, unknown> {
  return {
    model: request.model,
    messages: toWireMessages(request.messages),
    stream: true,
    ...(request.tools.length > 0 ? { tools: toWireTools(request.tools) } : {}),
    ...(streamUsage ? { stream_options: { include_usage: true } } : {}),
  };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** What one attempt got to: whether text reached onDelta (then no retry), the HTTP status, a failure of onDelta itself. */
interface AttemptProgress {
  emitted: boolean;
  status?: number;
  consumerError?: { error: unknown };
}

/** A wait that a signal cuts short (rejecting with the signal's reason). */
function abortableWait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function createModelClient(config: RuntimeConfig, logger: Logger, options: ModelClientOptions = {}): ClosableModelClient {
  const connectTimeoutMs = options.connectTimeoutMs ?? MODEL_CLIENT_DEFAULTS.connectTimeoutMs;
  const headersTimeoutMs = options.headersTimeoutMs ?? MODEL_CLIENT_DEFAULTS.headersTimeoutMs;
  const idleTimeoutMs = options.idleTimeoutMs ?? MODEL_CLIENT_DEFAULTS.idleTimeoutMs;
  const maxAttempts = Math.max(1, options.maxAttempts ?? MODEL_CLIENT_DEFAULTS.maxAttempts);
  const retryAfterCapMs = options.retryAfterCapMs ?? MODEL_CLIENT_DEFAULTS.retryAfterCapMs;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  // The caller names the component (startRuntime passes logger.child('model')).
  const log = logger;
  // undici's bodyTimeout is the idle time between body chunks: exactly the stall we must not wait out.
  const agent = new Agent({ connect: { timeout: connectTimeoutMs }, headersTimeout: headersTimeoutMs, bodyTimeout: idleTimeoutMs });
  const url = `${config.baseUrl}/chat/completions`;
  // What messages show: no userinfo or query, where a password or key in TETHER_BASE_URL would be.
  const shownBase = shownUrl(config.baseUrl);
  const shownEndpoint = `${shownBase}/chat/completions`;
  const baseHeaders: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'text/event-stream',
    'user-agent': `tether/${VERSION}`,
    ...config.providerHeaders,
    ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}),
  };

  async function attempt(req: CompletionRequest, who: ProviderIdentity, body: string, progress: AttemptProgress): Promise<CompletionResult> {
    progress.emitted = false;
    delete progress.status;
    const emit = (text: string) => {
      progress.emitted = true;
      try {
        req.onDelta(text);
      } catch (err) {
        // The caller's own failure (a store write, say) must surface as itself, not as a provider error.
        progress.consumerError = { error: err };
        throw err;
      }
    };
    const res = await request(url, { method: 'POST', headers: baseHeaders, body, signal: req.signal, dispatcher: agent });
    progress.status = res.statusCode;
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const text = await readLimited(res.body, ERROR_BODY_MAX);
      const retryAfterMs = parseRetryAfter(headerValue(res.headers['retry-after']), headerValue(res.headers['retry-after-ms']));
      throw classifyHttpFailure(res.statusCode, text, who, retryAfterMs, new Date(), retryAfterCapMs);
    }

    const contentType = headerValue(res.headers['content-type']) ?? '';
    const assembler = new CompletionAssembler();
    if (/json/i.test(contentType)) {
      // The server ignored stream: true and answered whole; take it rather than fail.
      const text = await readLimited(res.body, 16 * 1024 * 1024);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ModelError('provider_unavailable', `the provider at ${shownBase} sent a JSON answer that cannot be read`, 'check TETHER_BASE_URL', { retryable: true });
      }
      const outcome = assembler.accept(parsed);
      if (outcome.error) throw streamError(outcome.error, who);
      if (outcome.text) emit(outcome.text);
      return assembler.result();
    }
    if (!/event-stream/i.test(contentType)) {
      discard(res.body);
      throw new ModelError('provider_not_found', `${shownEndpoint} answered with ${contentType || 'no content type'}, not an event stream`, 'TETHER_BASE_URL must be the OpenAI-compatible root of the provider, usually ending in /v1');
    }

    let done = false;
    let failure: ModelError | undefined;
    const parser = createSseParser(({ event, data }) => {
      if (done || failure) return;
      const trimmed = data.trim();
      if (trimmed === '[DONE]') {
        done = true;
        return;
      }
      for (const parsed of parseEventData(trimmed)) {
        const outcome = assembler.accept(event === 'error' && !(parsed as { error?: unknown }).error ? { error: parsed } : parsed);
        if (outcome.error) {
          failure = streamError(outcome.error, who);
          return;
        }
        if (outcome.text) emit(outcome.text);
      }
    });
    const decoder = new TextDecoder('utf-8');
    for await (const piece of res.body) {
      parser.push(decoder.decode(piece as Buffer, { stream: true }));
      if (done || failure) break;
    }
    if (!done && !failure) {
      parser.push(decoder.decode());
      parser.end();
    }
    discard(res.body);
    if (failure) throw failure;
    if (assembler.chunks === 0 && !done) {
      throw new ModelError('provider_not_found', `${shownEndpoint} did not speak the OpenAI chat-completions stream`, 'TETHER_BASE_URL must be the OpenAI-compatible root of the provider, usually ending in /v1');
    }
    const result = assembler.result();
    if (!done && result.finishReason === null) {
      // The body ended cleanly but the completion did not: a proxy cut it, or the server died between writes.
      throw new ModelError('provider_unavailable', `the reply from ${shownBase} ended before it was complete`, 'try again; if it keeps happening check the model server’s logs', { retryable: true });
    }
    return result;
  }

  function streamError(error: { message: string; status?: number }, who: ProviderIdentity): ModelError {
    if (error.status !== undefined && error.status >= 400) return classifyHttpFailure(error.status, JSON.stringify({ error: { message: error.message } }), who, undefined, new Date(), retryAfterCapMs);
    return new ModelError('provider_unavailable', `the provider at ${shownBase} reported an error in the stream: ${withoutUrlCredentials(error.message.slice(0, 300))}`, 'try again later', { retryable: true });
  }

  return {
    async complete(req) {
      const started = performance.now();
      const who: ProviderIdentity = { provider: config.provider, baseUrl: config.baseUrl, model: req.model, apiKeyVariable: config.apiKeyVariable, hasKey: Boolean(config.apiKey) };
      const body = JSON.stringify(buildCompletionBody(req, config.streamUsage));
      const progress: AttemptProgress = { emitted: false };
      let attempts = 0;
      const finish = (ok: boolean, code?: string) => {
        const latencyMs = Math.round(performance.now() - started);
        const info: ModelCallInfo = { latencyMs, ok, attempts, ...(progress.status !== undefined ? { status: progress.status } : {}), ...(code ? { code } : {}) };
        log.debug('model call', { model: req.model, status: progress.status, latencyMs, retries: attempts - 1, ok, ...(code ? { code } : {}) });
        options.onCall?.(info);
      };

      try {
        const result = await pRetry(
          async () => {
            attempts++;
            try {
              return await attempt(req, who, body, progress);
            } catch (err) {
              if (req.signal.aborted) throw req.signal.reason;
              if (progress.consumerError) throw new AbortError('onDelta failed');
              throw classifyNetworkFailure(err, who, progress.emitted, { headersTimeoutMs, idleTimeoutMs });
            }
          },
          {
            retries: maxAttempts - 1,
            signal: req.signal,
            // p-retry's own delay stays zero: the wait is ours, because it must honour Retry-After.
            minTimeout: 0,
            shouldRetry: async ({ error, retriesConsumed }) => {
              if (req.signal.aborted || !(error instanceof ModelError) || !error.retryable || progress.emitted) return false;
              const delay = retryDelay(retriesConsumed + 1, error.retryAfterMs, backoff);
              log.debug('model call retry', { model: req.model, code: error.code, status: error.status, delayMs: delay, attempt: attempts });
              await abortableWait(delay, req.signal);
              return true;
            },
          },
        );
        finish(true);
        return result;
      } catch (err) {
        if (req.signal.aborted) {
          finish(false, 'aborted');
          throw req.signal.reason;
        }
        if (progress.consumerError) {
          finish(false, 'consumer_failed');
          throw progress.consumerError.error;
        }
        const error = err instanceof ModelError ? err : classifyNetworkFailure(err, who, progress.emitted, { headersTimeoutMs, idleTimeoutMs });
        finish(false, error.code);
        if (error.retryable && attempts > 1) {
          throw new ModelError(error.code, `${error.sentence} (gave up after ${attempts} attempts)`, error.fix, { ...(error.status !== undefined ? { status: error.status } : {}) });
        }
        throw error;
      }
    },
    close: () => agent.close(),
  };
}

/** One SSE data field as JSON; servers that forget blank lines between events get their lines parsed one by one. */
function parseEventData(data: string): unknown[] {
  if (data === '') return [];
  try {
    return [JSON.parse(data)];
  } catch {
    const out: unknown[] = [];
    for (const line of data.split('\n')) {
      const t = line.replace(/^data:\s?/, '').trim();
      if (!t || t === '[DONE]') continue;
      try {
        out.push(JSON.parse(t));
      } catch {
        // not JSON: ignored, like any line a model stream should not have
      }
    }
    return out;
  }
}

interface DestroyableBody {
  destroyed: boolean;
  destroy(): unknown;
  on(event: 'error', listener: () => void): unknown;
}

/** Drops the rest of a body; destroying an unfinished undici body emits an abort error nobody needs. */
function discard(body: DestroyableBody): void {
  if (body.destroyed) return;
  body.on('error', () => {});
  body.destroy();
}

async function readLimited(body: AsyncIterable<unknown> & DestroyableBody, max: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const piece of body) {
    const buf = piece as Buffer;
    parts.push(buf);
    size += buf.length;
    if (size >= max) {
      discard(body);
      break;
    }
  }
  return Buffer.concat(parts).toString('utf8').slice(0, max);
}
