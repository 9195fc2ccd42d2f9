// Every secret an environment carries is known and registered for redaction at start, whether the process uses it or not.
import { describe, expect, it } from 'vitest';
import { loadClientConfig, loadCommonConfig } from '../../lib/config.js';
import { redact, scrubRegisteredSecrets } from '../../lib/log.js';
import { registerEnvironmentSecrets, secretValuesIn, urlCredentials } from '../../lib/secret-variables.js';
import { PROVIDERS } from '../../lib/providers.js';

describe('secret variables', () => {
  it('finds every platform credential, every provider key, the runtime token and URL passwords, and nothing else', () => {
    const env = {
      TELEGRAM_BOT_TOKEN: '123456:telegram-secret-aaaa',
      FEISHU_APP_SECRET: 'feishu-secret-bbbb',
      FEISHU_APP_ID: 'cli_not_a_secret',
      SLACK_BOT_TOKEN: 'xoxb-slack-secret-cccc',
      SLACK_APP_TOKEN: 'xapp-slack-secret-dddd',
      DISCORD_BOT_TOKEN: 'discord-secret-eeee',
      TETHER_TOKEN: 'runtime-token-ffff',
      ...Object.fromEntries(Object.values(PROVIDERS).flatMap((p) => p.keyEnv).map((k) => [k, `key-of-${k}`])),
      TETHER_BASE_URL: 'http://user:url-pass%21word@127.0.0.1:9/v1',
      TELEGRAM_API_ROOT: 'https://only-a-token-as-user@api.example',
      PATH: '/usr/bin',
      GITHUB_TOKEN: 'users-own-token',
    };
    const found = secretValuesIn(env);
    for (const [name, value] of Object.entries(env)) {
      if (['TETHER_BASE_URL', 'TELEGRAM_API_ROOT', 'PATH', 'GITHUB_TOKEN', 'FEISHU_APP_ID'].includes(name)) expect(found).not.toContain(value);
      else expect(found, name).toContain(value);
    }
    expect(found).toEqual(expect.arrayContaining(['url-pass%21word', 'url-pass!word', 'only-a-token-as-user']));
    expect(found).not.toContain('user');
  });

  it('reads credentials only from URLs that carry them', () => {
    expect(urlCredentials('http://127.0.0.1:9/v1')).toEqual([]);
    expect(urlCredentials('http://u:p4ssw0rd@h/v1')).toEqual(['p4ssw0rd']);
    expect(urlCredentials('not a url with @ in it')).toEqual([]);
  });

  it('a client process (tether chat, a bridge) registers the bot token and provider keys it never uses', () => {
    const env = { TELEGRAM_BOT_TOKEN: '987654:unused-by-chat-token-1', DEEPSEEK_API_KEY: 'sk-unused-deepseek-2', SLACK_APP_TOKEN: 'xapp-unused-3' };
    loadClientConfig(env);
    const text = `a ${env.TELEGRAM_BOT_TOKEN} b ${env.DEEPSEEK_API_KEY} c ${env.SLACK_APP_TOKEN}`;
    expect(scrubRegisteredSecrets(text)).toBe('a [redacted] b [redacted] c [redacted]');
    expect(redact(text)).not.toMatch(/unused/);
  });

  it('the password of TETHER_BASE_URL is registered by the common config every process loads', () => {
    loadCommonConfig({ TETHER_BASE_URL: 'https://me:base-url-password-4@llm.example/v1' });
    expect(scrubRegisteredSecrets('sent to https://me:base-url-password-4@llm.example/v1')).toBe('sent to https://me:[redacted]@llm.example/v1');
  });

  it('a URL password shorter than registerSecret takes is redacted where it stands in a URL, whatever its length', () => {
    registerEnvironmentSecrets({ TETHER_BASE_URL: 'https://me:ab1@llm.example/v1', TELEGRAM_API_ROOT: 'https://tk9@proxy.example' });
    expect(scrubRegisteredSecrets('TETHER_BASE_URL=https://me:ab1@llm.example/v1 root=https://tk9@proxy.example')).toBe('TETHER_BASE_URL=https://me:[redacted]@llm.example/v1 root=https://[redacted]@proxy.example');
    // Short values are not hunted through all text: `ab1` alone is not a URL credential.
    expect(scrubRegisteredSecrets('grep ab1 notes.txt')).toBe('grep ab1 notes.txt');
  });
});
