// `tether up` hands bridges its environment without any model provider key: a bridge only talks to the runtime.
import { describe, expect, it } from 'vitest';
import { bridgeEnvironment } from '../../../cli/up.js';
import { PROVIDERS } from '../../../runtime/models/providers.js';

describe('bridgeEnvironment', () => {
  it('drops TETHER_API_KEY and every key variable of the provider table, keeps the rest, and points at the runtime', () => {
    const keys = ['TETHER_API_KEY', ...Object.values(PROVIDERS).flatMap((p) => p.keyEnv)];
    expect(keys).toEqual(expect.arrayContaining(['OPENAI_API_KEY', 'DEEPSEEK_API_KEY', 'OPENROUTER_API_KEY']));
    const env = {
      ...Object.fromEntries(keys.map((k) => [k, `secret-${k}`])),
      TELEGRAM_BOT_TOKEN: '123:abc',
      TELEGRAM_ALLOWLIST: '42',
      PATH: '/usr/bin',
      TETHER_RUNTIME_URL: 'http://127.0.0.1:1',
    };
    const out = bridgeEnvironment(env, 'http://127.0.0.1:7878', '/var/lib/tether');
    expect(out).toEqual({ TELEGRAM_BOT_TOKEN: '123:abc', TELEGRAM_ALLOWLIST: '42', PATH: '/usr/bin', TETHER_RUNTIME_URL: 'http://127.0.0.1:7878', TETHER_STATE_DIR: '/var/lib/tether' });
  });
});
