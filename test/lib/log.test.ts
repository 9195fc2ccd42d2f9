import { describe, expect, it } from 'vitest';
import { createLogger, dropSecretFragmentsAtCut, redact, registerSecret, scrubRegisteredSecrets } from '../../lib/log.js';

describe('logger', () => {
  it('writes one JSON object a line, honouring the level', () => {
    const lines: string[] = [];
    const log = createLogger('test', { level: 'info', write: (l) => lines.push(l) });
    log.debug('hidden');
    log.info('shown', { n: 1 });
    log.child('sub').warn('careful', { err: new Error('boom') });
    expect(lines).toHaveLength(2);
    const [a, b] = lines.map((l) => JSON.parse(l));
    expect(a).toMatchObject({ level: 'info', component: 'test', msg: 'shown', n: 1 });
    expect(b).toMatchObject({ level: 'warn', component: 'test.sub', err: { name: 'Error', message: 'boom' } });
  });

  it('redacts registered secrets and secret-shaped strings wherever they appear', () => {
    registerSecret('super-secret-value-42');
    const lines: string[] = [];
    const log = createLogger('test', { write: (l) => lines.push(l) });
    log.error('failed', { url: 'https://api.telegram.org/bot123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ra/getUpdates', detail: 'key super-secret-value-42', auth: 'Bearer abcdefghijklmnop' });
    const line = lines[0]!;
    expect(line).not.toContain('AAEhBOweik6ad9r');
    expect(line).not.toContain('super-secret-value-42');
    expect(line).not.toContain('abcdefghijklmnop');
    expect(line).toContain('[redacted]');
    expect(redact('wss://x/ws?ticket=abc123&device_id=9')).toBe('wss://x/ws?ticket=[redacted]&device_id=9');
  });

  it('scrubs only registered values, leaving secret-shaped text that is not one alone', () => {
    registerSecret('tok-registered-0123456789');
    const text = 'cat runtime.token: tok-registered-0123456789\nmy app: https://x/?token=abc123 Bearer abcdefghijklmnop sk-abcdefghijklmnop';
    expect(scrubRegisteredSecrets(text)).toBe('cat runtime.token: [redacted]\nmy app: https://x/?token=abc123 Bearer abcdefghijklmnop sk-abcdefghijklmnop');
    expect(scrubRegisteredSecrets('nothing to hide')).toBe('nothing to hide');
  });

  it('replaces a secret that contains another one whole', () => {
    registerSecret('inner-secret');
    registerSecret('outer-inner-secret-tail');
    expect(scrubRegisteredSecrets('x outer-inner-secret-tail y inner-secret z')).toBe('x [redacted] y [redacted] z');
  });

  it.each([
    ['the head ends inside a secret', 'output ... key=frag-secret-98', 'more', 'output ... key=', 'more'],
    ['the tail starts inside a secret', 'head', 'cret-9876543210 and more', 'head', ' and more'],
    ['both sides of one secret', 'a frag-sec', 'ret-9876543210 b', 'a ', ' b'],
    ['no secret near the cut', 'plain head', 'plain tail', 'plain head', 'plain tail'],
    ['a whole secret is left for scrubbing', 'x frag-secret-9876543210', 'y', 'x frag-secret-9876543210', 'y'],
  ])('drops secret fragments at a cut when %s', (_case, before, after, keptBefore, keptAfter) => {
    registerSecret('frag-secret-9876543210');
    expect(dropSecretFragmentsAtCut(before, after)).toEqual({ before: keptBefore, after: keptAfter });
  });
});
