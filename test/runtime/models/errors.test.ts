// Classifying provider answers and network failures into errors a person can act on.
import { describe, expect, it } from 'vitest';
import { classifyHttpFailure, classifyNetworkFailure, ModelError, providerMessage, type ProviderIdentity } from '../../../runtime/models/errors.js';

const WHO: ProviderIdentity = { provider: 'openai', baseUrl: 'https://api.openai.com/v1', model: 'gpt-x', apiKeyVariable: 'OPENAI_API_KEY', hasKey: true };
const TIMEOUTS = { headersTimeoutMs: 120_000, idleTimeoutMs: 120_000 };
const body = (message: string, code?: string) => JSON.stringify({ error: { message, type: 'x', code } });

describe('classifyHttpFailure', () => {
  it.each([
    [401, 'provider_unauthorized', false],
    [403, 'provider_unauthorized', false],
    [404, 'provider_not_found', false],
    [400, 'provider_bad_request', false],
    [413, 'provider_bad_request', false],
    [422, 'provider_bad_request', false],
    [408, 'provider_unavailable', true],
    [429, 'provider_rate_limited', true],
    [500, 'provider_unavailable', true],
    [503, 'provider_unavailable', true],
    [529, 'provider_unavailable', true],
  ])('%i → %s (retryable: %s)', (status, code, retryable) => {
    const err = classifyHttpFailure(status, body('why'), WHO, undefined);
    expect(err.code).toBe(code);
    expect(err.retryable).toBe(retryable);
    expect(err.status).toBe(status);
  });

  it('never repeats the body of a 401, which may hold part of the key', () => {
    const err = classifyHttpFailure(401, body('Incorrect API key provided: sk-abc***xyz'), WHO, undefined);
    expect(err.message).toBe('the provider refused the API key (401) at https://api.openai.com/v1 (openai): check OPENAI_API_KEY');
  });

  it('an exhausted quota is not retried', () => {
    const err = classifyHttpFailure(429, body('You exceeded your current quota', 'insufficient_quota'), WHO, undefined);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('no quota left');
  });

  it('keeps the Retry-After for the retry, and refuses one beyond the cap', () => {
    expect(classifyHttpFailure(503, '', WHO, 2000).retryAfterMs).toBe(2000);
    const far = classifyHttpFailure(429, '', WHO, 600_000, new Date('2025-01-01T00:00:00Z'));
    expect(far.retryable).toBe(false);
    expect(far.message).toContain('try again after 2025-01-01T00:10:00Z');
  });
});

describe('providerMessage', () => {
  it.each([
    [body('bad model'), 'bad model'],
    [JSON.stringify({ message: 'flat' }), 'flat'],
    [JSON.stringify({ detail: [{ msg: 'field required' }] }), 'field required'],
    [JSON.stringify([{ error: { message: 'gemini style' } }]), 'gemini style'],
    ['plain text\nerror', 'plain text error'],
    ['<html><body>502 Bad Gateway</body></html>', ''],
    [body('x'.repeat(400)), `${'x'.repeat(300)}…`],
  ])('%j → %j', (text, expected) => {
    expect(providerMessage(text)).toBe(expected);
  });
});

describe('classifyNetworkFailure', () => {
  const withCode = (code: string) => Object.assign(new Error(code), { code });
  it.each([
    ['ECONNREFUSED', false, 'provider_unavailable', true],
    ['ENOTFOUND', false, 'provider_unavailable', true],
    ['UND_ERR_CONNECT_TIMEOUT', false, 'provider_unavailable', true],
    ['ECONNRESET', false, 'provider_unavailable', true],
    ['UND_ERR_SOCKET', true, 'provider_stream_broken', false],
    ['UND_ERR_HEADERS_TIMEOUT', false, 'provider_timeout', false],
    ['UND_ERR_BODY_TIMEOUT', true, 'provider_timeout', false],
  ])('%s (text emitted: %s) → %s (retryable: %s)', (code, emitted, expected, retryable) => {
    const err = classifyNetworkFailure(withCode(code), WHO, emitted, TIMEOUTS);
    expect(err.code).toBe(expected);
    expect(err.retryable).toBe(retryable);
    expect(err.message).toContain(WHO.baseUrl);
  });

  it('finds the code in a wrapped cause', () => {
    const err = classifyNetworkFailure(new Error('fetch failed', { cause: withCode('ECONNREFUSED') }), WHO, false, TIMEOUTS);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('a retryable error after text was emitted becomes a broken stream', () => {
    const err = classifyNetworkFailure(new ModelError('provider_unavailable', 'overloaded', undefined, { retryable: true }), WHO, true, TIMEOUTS);
    expect(err.code).toBe('provider_stream_broken');
    expect(err.retryable).toBe(false);
  });
});

describe('provider URLs in messages', () => {
  const SECRET_WHO: ProviderIdentity = { ...WHO, baseUrl: 'http://alice:hunter2-pass@llm.internal:8000/v1?api-key=q-secret#frag' };

  it.each([401, 404, 400, 429, 503])('an HTTP %i names the provider without userinfo, query or fragment', (status) => {
    const err = classifyHttpFailure(status, body('upstream http://bob:other-pass@proxy/x failed'), SECRET_WHO, undefined);
    expect(err.message).toContain('http://llm.internal:8000/v1');
    expect(err.message).not.toMatch(/alice|hunter2|q-secret|frag|other-pass|bob/);
  });

  it.each([
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['an unknown error', new Error('fetch to http://alice:hunter2-pass@llm.internal:8000/v1 failed')],
    ['a headers timeout', Object.assign(new Error('timeout'), { code: 'UND_ERR_HEADERS_TIMEOUT' })],
  ])('a network failure (%s) names the provider without credentials', (_what, cause) => {
    const err = classifyNetworkFailure(cause, SECRET_WHO, false, TIMEOUTS);
    expect(err.message).toContain('llm.internal:8000/v1');
    expect(err.message).not.toMatch(/alice|hunter2|q-secret/);
  });
});
