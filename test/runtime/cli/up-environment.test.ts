// `tether up` hands each bridge its environment with no secret but its own: a bridge only talks to the runtime and its platform.
import { describe, expect, it } from 'vitest';
import { bridgeEnvironment } from '../../../cli/up.js';
import { BRIDGES } from '../../../lib/bridges.js';
import { PROVIDERS } from '../../../lib/providers.js';

const TELEGRAM = { namespaces: ['TELEGRAM_'] };

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
    const out = bridgeEnvironment(env, TELEGRAM, 'http://127.0.0.1:7878', '/var/lib/tether');
    expect(out).toEqual({ TELEGRAM_BOT_TOKEN: '123:abc', TELEGRAM_ALLOWLIST: '42', PATH: '/usr/bin', TETHER_RUNTIME_URL: 'http://127.0.0.1:7878', TETHER_STATE_DIR: '/var/lib/tether' });
  });

  it("gives the Telegram bridge neither another platform's credentials nor a URL carrying the provider's password, but the runtime token", () => {
    const env = {
      TELEGRAM_BOT_TOKEN: '123456:telegram-token-value',
      SLACK_BOT_TOKEN: 'xoxb-slack-bot-token-value',
      SLACK_APP_TOKEN: 'xapp-slack-app-token-value',
      DISCORD_BOT_TOKEN: 'discord-bot-token-value',
      FEISHU_APP_ID: 'cli_feishu_app_id',
      FEISHU_APP_SECRET: 'feishu-app-secret-value',
      TETHER_TOKEN: 'runtime-token-0123456789',
      TETHER_BASE_URL: 'http://user:provider-password@127.0.0.1:9/v1',
      TETHER_MODEL: 'fake',
    };
    const out = bridgeEnvironment(env, TELEGRAM, 'http://127.0.0.1:7878', '/s');
    expect(out).toEqual({ TELEGRAM_BOT_TOKEN: env.TELEGRAM_BOT_TOKEN, TETHER_TOKEN: env.TETHER_TOKEN, TETHER_MODEL: 'fake', TETHER_RUNTIME_URL: 'http://127.0.0.1:7878', TETHER_STATE_DIR: '/s' });
  });

  it("keeps the bridge's own variables, a TELEGRAM_API_ROOT carrying a proxy's password included, and drops what carries another secret however short", () => {
    const env = {
      PATH: '/bin',
      TELEGRAM_BOT_TOKEN: '123456789:AAHfakeTokenfakeTokenfakeTokenfake12',
      TELEGRAM_API_ROOT: 'http://proxyuser:Pr0xyPassw0rd@proxy.example:8081',
      TELEGRAM_ALLOWLIST: '12345',
      DEEPSEEK_API_KEY: 'sk-deepseek-1234567890',
      TETHER_BASE_URL: 'https://u:abc12@llm.example/v1',
      MY_COPY_OF_THE_BASE_URL: 'https://u:abc12@llm.example/v1',
      GITHUB_TOKEN: 'ghp_usersOwnToken123456',
    };
    const out = bridgeEnvironment(env, TELEGRAM, 'http://127.0.0.1:7878', '/s');
    expect(out).toEqual({
      PATH: '/bin',
      TELEGRAM_BOT_TOKEN: env.TELEGRAM_BOT_TOKEN,
      TELEGRAM_API_ROOT: env.TELEGRAM_API_ROOT,
      TELEGRAM_ALLOWLIST: '12345',
      GITHUB_TOKEN: env.GITHUB_TOKEN,
      TETHER_RUNTIME_URL: 'http://127.0.0.1:7878',
      TETHER_STATE_DIR: '/s',
    });
  });

  it("gives each row of the bridges table its own platform's secrets and not another's", () => {
    const env = { PATH: '/bin', TELEGRAM_BOT_TOKEN: '123456789:AAHfakeTokenfakeTokenfakeTokenfake12', FEISHU_APP_ID: 'cli_0123456789abcdef', FEISHU_APP_SECRET: 'feishu-secret-0123456789', FEISHU_DOMAIN: 'lark' };
    expect(bridgeEnvironment(env, BRIDGES.feishu, 'http://127.0.0.1:7878', '/s')).toEqual({ PATH: '/bin', FEISHU_APP_ID: env.FEISHU_APP_ID, FEISHU_APP_SECRET: env.FEISHU_APP_SECRET, FEISHU_DOMAIN: 'lark', TETHER_RUNTIME_URL: 'http://127.0.0.1:7878', TETHER_STATE_DIR: '/s' });
    // Another platform's settings are no secret (FEISHU_DOMAIN); its credentials are withheld.
    expect(bridgeEnvironment(env, BRIDGES.telegram, 'http://127.0.0.1:7878', '/s')).toEqual({ PATH: '/bin', TELEGRAM_BOT_TOKEN: env.TELEGRAM_BOT_TOKEN, FEISHU_DOMAIN: 'lark', TETHER_RUNTIME_URL: 'http://127.0.0.1:7878', TETHER_STATE_DIR: '/s' });
  });
});
