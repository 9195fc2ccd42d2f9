import { describe, expect, it } from 'vitest';
import { createLogger, redact, registerSecret } from '../../lib/log.js';

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
});
