// Which variables a shell command never sees: Tether's own credentials, by list and by pattern.
import { describe, expect, it } from 'vitest';
import { isTetherSecretVariable, shellEnvironment } from '../../../runtime/tools/shell-environment.js';

describe('shell environment', () => {
  it.each([
    'TETHER_TOKEN', 'TETHER_API_KEY', 'TELEGRAM_BOT_TOKEN', 'FEISHU_APP_SECRET', 'FEISHU_APP_ID', 'SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'DISCORD_BOT_TOKEN',
    'OPENAI_API_KEY', 'DEEPSEEK_API_KEY', 'GEMINI_API_KEY', 'SOME_FUTURE_PROVIDER_API_KEY', 'openai_api_key', 'LARK_APP_SECRET', 'TETHER_WEBHOOK_SECRET',
  ])('hides %s', (name) => {
    expect(isTetherSecretVariable(name)).toBe(true);
  });

  it.each(['PATH', 'HOME', 'LANG', 'TETHER_WORKSPACE', 'TETHER_STATE_DIR', 'GITHUB_TOKEN', 'NODE_OPTIONS', 'TELEGRAM_API_ROOT', 'KEYBOARD'])('keeps %s', (name) => {
    expect(isTetherSecretVariable(name)).toBe(false);
  });

  it('drops the secrets and undefined values, keeping everything else as it was', () => {
    expect(shellEnvironment({ PATH: '/bin', TETHER_TOKEN: 't', OPENAI_API_KEY: 'k', EMPTY: '', GONE: undefined })).toEqual({ PATH: '/bin', EMPTY: '' });
  });

  it('drops a variable whose value carries a secret, such as TETHER_BASE_URL with a password', () => {
    expect(shellEnvironment({ PATH: '/bin', TETHER_BASE_URL: 'http://me:provider-pass-123@127.0.0.1:9/v1', TETHER_MODEL: 'm' })).toEqual({ PATH: '/bin', TETHER_MODEL: 'm' });
  });

  it('drops a URL with a short password by its shape, and a copy of it, but does not hunt a short password through every value', () => {
    const env = { PATH: '/bin', TETHER_BASE_URL: 'https://me:abc12@llm.example/v1', MY_BASE_URL: 'https://me:abc12@llm.example/v1', NOTE: 'abc12 alone is no URL', TETHER_MODEL: 'm' };
    expect(shellEnvironment(env)).toEqual({ PATH: '/bin', NOTE: 'abc12 alone is no URL', TETHER_MODEL: 'm' });
  });
});
