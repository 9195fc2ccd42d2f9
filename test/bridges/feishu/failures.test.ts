// Feishu errors read from both SDK shapes, and the table that turns them into what the core does.
import { describe, expect, it } from 'vitest';
import { FeishuApiError, classifyFeishuFailure, errorOfAnswer, errorOfThrown } from '../../../bridges/feishu/failures.js';

const axiosError = (status: number, data: unknown, headers: Record<string, string> = {}) => Object.assign(new Error(`Request failed with status code ${status}`), { isAxiosError: true, response: { status, data, headers } });
const api = (code: number | undefined, status: number | undefined, reset?: number) => new FeishuApiError('message.reply', code, status, 'msg', reset);

describe('reading a Feishu error', () => {
  it('takes the code from a resolved answer and from a thrown one alike, with the reset header', () => {
    expect(errorOfAnswer('message.create', { code: 230020, msg: 'limited' })).toMatchObject({ feishuCode: 230020, status: 200, detail: 'limited' });
    const thrown = errorOfThrown('message.create', axiosError(429, { code: 99991400, msg: 'request trigger frequency limit' }, { 'x-ogw-ratelimit-reset': '7' }));
    expect(thrown).toMatchObject({ feishuCode: 99991400, status: 429, resetSeconds: 7 });
    expect(thrown.message).toBe('message.create: code 99991400 request trigger frequency limit');
  });

  it('reads a refused token fetch, a gateway page and a network failure, never the request', () => {
    expect(errorOfThrown('x', new Error('failed to get tenant_access_token, code: 10014, msg: app secret invalid'))).toMatchObject({ call: 'auth.tenantAccessToken', feishuCode: 10014 });
    expect(errorOfThrown('x', axiosError(502, '<html>Bad Gateway</html>'))).toMatchObject({ feishuCode: undefined, status: 502 });
    const net = errorOfThrown('x', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', config: { headers: { Authorization: 'Bearer t-secret' } } }));
    expect(net).toMatchObject({ feishuCode: undefined, status: undefined });
    expect(net.message).toBe('x: no answer network error (ECONNREFUSED)');
  });
});

describe('classifying a failed send', () => {
  const rows: Array<[string, FeishuApiError, unknown]> = [
    ['99991400 waits the reset', api(99991400, 429, 3), { kind: 'retry_after', seconds: 3 }],
    ['99991400 on an old API (HTTP 400) too', api(99991400, 400), { kind: 'retry_after', seconds: 1 }],
    ['a bare 429 waits', api(undefined, 429, 2), { kind: 'retry_after', seconds: 2 }],
    ['230020 holds the chat', api(230020, 400), { kind: 'retry_after', seconds: 1 }],
    ['230025 splits', api(230025, 400), { kind: 'too_long' }],
    ['230002 not in the chat', api(230002, 400), { kind: 'gone', reason: expect.stringContaining('230002') }],
    ['230053 blocked', api(230053, 400), { kind: 'gone', reason: expect.stringContaining('230053') }],
    ['230035 may not speak', api(230035, 400), { kind: 'gone', reason: expect.stringContaining('230035') }],
    ['10014 credentials', api(10014, 200), { kind: 'fatal', reason: expect.stringContaining('FEISHU_APP_SECRET') }],
    ['a token still refused after a fresh one', api(99991663, 400), { kind: 'transient' }],
    ['an unknown 4xx', api(230001, 400), { kind: 'rejected', reason: expect.stringContaining('230001') }],
    ['an unknown code in a resolved answer', api(234567, 200), { kind: 'rejected', reason: expect.any(String) }],
    ['a 5xx', api(undefined, 503), { kind: 'transient' }],
    ['no answer', api(undefined, undefined), { kind: 'transient' }],
  ];
  it.each(rows)('%s', (_name, error, failure) => {
    expect(classifyFeishuFailure(error)).toEqual(failure);
  });
});
