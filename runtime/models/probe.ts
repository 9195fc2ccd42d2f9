// Checks a provider without spending tokens: GET /models with the key, for `tether doctor` and start-up hints.
import { Agent, request } from 'undici';
import type { RuntimeConfig } from '../../lib/config.js';
import { shownUrl } from '../../lib/shown-url.js';
import { VERSION } from '../../lib/version.js';
import { classifyHttpFailure, classifyNetworkFailure, ModelError, type ProviderIdentity } from './errors.js';

export interface ProviderProbe {
  ok: boolean;
  /** Ids the provider lists; empty when it answered without a readable list. */
  models: string[];
  /** Whether config.model is among them; undefined when the list was empty (some servers list nothing). */
  modelListed: boolean | undefined;
  /** Why the provider cannot be used, for a person (code, sentence and fix). */
  error?: ModelError;
  latencyMs: number;
}

export interface ProbeOptions {
  /** Whole probe, connect included. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Model ids from an OpenAI-style list (`{data: [{id}]}`), or Ollama's native `{models: [{name}]}`. */
export function modelIdsOf(body: unknown): string[] {
  if (!body || typeof body !== 'object') return [];
  const o = body as { data?: unknown; models?: unknown };
  const list = Array.isArray(o.data) ? o.data : Array.isArray(o.models) ? o.models : [];
  return list
    .map((m: unknown) => (m && typeof m === 'object' ? ((m as { id?: unknown; name?: unknown }).id ?? (m as { name?: unknown }).name) : undefined))
    .filter((id): id is string => typeof id === 'string');
}

export async function probeProvider(config: RuntimeConfig, options: ProbeOptions = {}): Promise<ProviderProbe> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const started = performance.now();
  const who: ProviderIdentity = { provider: config.provider, baseUrl: config.baseUrl, model: config.model, apiKeyVariable: config.apiKeyVariable, hasKey: Boolean(config.apiKey) };
  const agent = new Agent({ connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
  const done = (fields: Omit<ProviderProbe, 'latencyMs'>): ProviderProbe => ({ ...fields, latencyMs: Math.round(performance.now() - started) });
  try {
    const res = await request(`${config.baseUrl}/models`, {
      method: 'GET',
      headers: { accept: 'application/json', 'user-agent': `tether/${VERSION}`, ...config.providerHeaders, ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}) },
      signal,
      dispatcher: agent,
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) {
      return done({ ok: false, models: [], modelListed: undefined, error: classifyHttpFailure(res.statusCode, text, who, undefined) });
    }
    let models: string[] = [];
    try {
      models = modelIdsOf(JSON.parse(text));
    } catch {
      return done({ ok: false, models: [], modelListed: undefined, error: new ModelError('provider_not_found', `${shownUrl(config.baseUrl)}/models did not answer with JSON`, 'TETHER_BASE_URL must be the OpenAI-compatible root of the provider, usually ending in /v1') });
    }
    const modelListed = models.length === 0 ? undefined : models.includes(config.model);
    if (modelListed === false) {
      const sample = models.slice(0, 5).join(', ');
      return done({ ok: false, models, modelListed, error: new ModelError('provider_not_found', `${shownUrl(config.baseUrl)} does not list the model ${JSON.stringify(config.model)} (it has ${sample}${models.length > 5 ? ', …' : ''})`, 'set TETHER_MODEL to one of the listed models (for Ollama: ollama pull the model first)') });
    }
    return done({ ok: true, models, modelListed });
  } catch (err) {
    if (options.signal?.aborted) throw options.signal.reason;
    const timedOut = signal.aborted;
    const error = timedOut
      ? new ModelError('provider_timeout', `the provider at ${shownUrl(config.baseUrl)} did not answer within ${Math.round(timeoutMs / 1000)} s`, 'check that the model server is running and reachable from this host')
      : classifyNetworkFailure(err, who, false, { headersTimeoutMs: timeoutMs, idleTimeoutMs: timeoutMs });
    return done({ ok: false, models: [], modelListed: undefined, error });
  } finally {
    await agent.close().catch(() => {});
  }
}
