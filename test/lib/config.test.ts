import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLoopbackHost, loadClientConfig, loadFeishuConfig, loadRuntimeConfig, loadTelegramConfig, readEnvironment, hasBridgeCredentials } from '../../lib/config.js';
import { ConfigError } from '../../lib/errors.js';
import { BRIDGE_LOADERS } from '../../deploy/bridge-loaders.js';

const workspace = mkdtempSync(join(tmpdir(), 'tether-cfg-'));
const base = { HOME: workspace, TETHER_WORKSPACE: workspace };
const telegramToken = '123456789:AAEhBOweik6ad9r_QXMENQjcrGbqCr4K-ra';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('runtime configuration', () => {
  it('has the contract defaults', () => {
    const c = loadRuntimeConfig(base);
    expect(c).toMatchObject({ host: '127.0.0.1', port: 7878, provider: 'ollama', workers: 2, turnTimeoutMs: 900_000, approval: 'ask', token: undefined });
    expect(c.baseUrl).toBe('http://127.0.0.1:11434/v1');
    expect(c.stateDir).toBe(join(workspace, '.local', 'state', 'tether'));
  });

  it('prefers XDG_STATE_HOME and then TETHER_STATE_DIR', () => {
    expect(loadRuntimeConfig({ ...base, XDG_STATE_HOME: '/x/state' }).stateDir).toBe('/x/state/tether');
    expect(loadRuntimeConfig({ ...base, XDG_STATE_HOME: '/x/state', TETHER_STATE_DIR: '/y' }).stateDir).toBe('/y');
  });

  it.each([
    ['TETHER_HOST', '0.0.0.0', /TETHER_HOST is "0.0.0.0", expected a loopback address/],
    ['TETHER_HOST', '192.168.1.4', /loopback/],
    ['TETHER_PORT', '99999', /TETHER_PORT is "99999", expected a whole number from 0 to 65535/],
    ['TETHER_PORT', 'http', /TETHER_PORT/],
    ['TETHER_WORKERS', '0', /TETHER_WORKERS/],
    ['TETHER_TURN_TIMEOUT_S', '-1', /TETHER_TURN_TIMEOUT_S is "-1", expected a positive number of seconds/],
    ['TETHER_APPROVAL', 'maybe', /TETHER_APPROVAL is "maybe", expected one of ask, auto, readonly/],
    ['TETHER_PROVIDER', 'acme', /TETHER_PROVIDER is "acme", expected one of openai, deepseek/],
    ['TETHER_BASE_URL', 'ftp://x', /TETHER_BASE_URL is "ftp:\/\/x", expected an http/],
    ['TETHER_LOG_LEVEL', 'loud', /TETHER_LOG_LEVEL/],
    ['TETHER_WORKSPACE', '/nonexistent/tether-ws', /TETHER_WORKSPACE is "\/nonexistent\/tether-ws", which is not an existing directory/],
  ])('refuses %s=%s with a message naming it', (name, value, message) => {
    expect(errorOf(() => loadRuntimeConfig({ ...base, [name]: value })).message).toMatch(message);
  });

  it('masks a bad token instead of printing it', () => {
    const err = errorOf(() => loadRuntimeConfig({ ...base, TETHER_TOKEN: 'short-secret' }));
    expect(err.message).toMatch(/TETHER_TOKEN/);
    expect(err.message).not.toContain('short-secret');
  });

  it('accepts every loopback form and nothing else', () => {
    for (const h of ['127.0.0.1', '127.3.4.5', '::1', '[::1]', 'localhost', 'LOCALHOST']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '127.0.0.1.nip.io', 'localhost.evil']) expect(isLoopbackHost(h)).toBe(false);
  });

  it('needs a key for hosted providers, naming the provider variable', () => {
    expect(errorOf(() => loadRuntimeConfig({ ...base, TETHER_PROVIDER: 'deepseek' })).message).toMatch(/^DEEPSEEK_API_KEY is not set/);
    const c = loadRuntimeConfig({ ...base, TETHER_PROVIDER: 'deepseek', DEEPSEEK_API_KEY: 'sk-abcdefghijkl' });
    expect(c).toMatchObject({ apiKey: 'sk-abcdefghijkl', apiKeyVariable: 'DEEPSEEK_API_KEY', model: 'deepseek-chat' });
    expect(loadRuntimeConfig({ ...base, TETHER_PROVIDER: 'deepseek', TETHER_API_KEY: 'k-123456', DEEPSEEK_API_KEY: 'sk-x' }).apiKeyVariable).toBe('TETHER_API_KEY');
  });

  it('lets TETHER_BASE_URL point a row at any compatible server', () => {
    const c = loadRuntimeConfig({ ...base, TETHER_PROVIDER: 'openai', TETHER_BASE_URL: 'http://127.0.0.1:9999/v1/' });
    expect(c.baseUrl).toBe('http://127.0.0.1:9999/v1');
    expect(c.apiKey).toBeUndefined();
  });

  it('asks for a model name where the provider has no default', () => {
    expect(errorOf(() => loadRuntimeConfig({ ...base, TETHER_PROVIDER: 'vllm' })).message).toMatch(/^TETHER_MODEL is not set/);
  });
});

describe('bridge configuration', () => {
  it('needs TELEGRAM_BOT_TOKEN, and never prints it', () => {
    expect(errorOf(() => loadTelegramConfig(base)).message).toMatch(/^TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather/);
    const err = errorOf(() => loadTelegramConfig({ ...base, TELEGRAM_BOT_TOKEN: 'not-a-token-but-secret-1234' }));
    expect(err.message).toMatch(/TELEGRAM_BOT_TOKEN/);
    expect(err.message).not.toContain('secret-1234');
  });

  it('parses the allowlist and refuses non-numeric ids', () => {
    expect(loadTelegramConfig({ ...base, TELEGRAM_BOT_TOKEN: telegramToken, TELEGRAM_ALLOWLIST: '42, -1001234 ,7' }).allowlist).toEqual(['42', '-1001234', '7']);
    expect(errorOf(() => loadTelegramConfig({ ...base, TELEGRAM_BOT_TOKEN: telegramToken, TELEGRAM_ALLOWLIST: '42,@bob' })).message).toMatch(/"@bob" is not one/);
  });

  it('refuses a runtime URL that is not loopback', () => {
    expect(errorOf(() => loadClientConfig({ ...base, TETHER_RUNTIME_URL: 'http://10.0.0.2:7878' })).message).toMatch(/^TETHER_RUNTIME_URL/);
  });

  it('knows which bridges have credentials', () => {
    expect(hasBridgeCredentials({ TELEGRAM_BOT_TOKEN: telegramToken }, 'telegram')).toBe(true);
    expect(hasBridgeCredentials({ FEISHU_APP_ID: 'cli_x' }, 'feishu')).toBe(false);
  });
});

describe('feishu configuration', () => {
  const app = { ...base, FEISHU_APP_ID: 'cli_a1b2c3d4e5f60718', FEISHU_APP_SECRET: 'feishu-app-secret-value' };

  it('needs an app id shaped like cli_ + 16 hex characters, in one line naming it', () => {
    expect(errorOf(() => loadFeishuConfig(base)).message).toMatch(/^FEISHU_APP_ID is not set: copy the App ID/);
    for (const wrong of ['cli_a1b2c3d4e5f6071', 'cli_A1B2C3D4E5F60718', 'a1b2c3d4e5f60718', 'cli_a1b2c3d4e5f6071g', ' cli_x ']) {
      const message = errorOf(() => loadFeishuConfig({ ...app, FEISHU_APP_ID: wrong })).message;
      expect(message.split('\n')).toHaveLength(1);
      expect(message).toMatch(/^FEISHU_APP_ID is ".*", expected cli_ followed by 16 hexadecimal characters/);
    }
  });

  it('needs the app secret and never prints it', () => {
    expect(errorOf(() => loadFeishuConfig({ ...base, FEISHU_APP_ID: app.FEISHU_APP_ID })).message).toMatch(/^FEISHU_APP_SECRET is not set/);
    const err = errorOf(() => loadFeishuConfig({ ...app, FEISHU_DOMAIN: 'feishu.cn' }));
    expect(err.message).toMatch(/^FEISHU_DOMAIN is "feishu.cn", expected feishu, lark, or a base URL/);
    expect(err.message).not.toContain(app.FEISHU_APP_SECRET);
  });

  it('reads FEISHU_DOMAIN as feishu, lark or a base URL without its trailing slash', () => {
    expect(loadFeishuConfig(app).domain).toBe('https://open.feishu.cn');
    expect(loadFeishuConfig({ ...app, FEISHU_DOMAIN: 'Lark' }).domain).toBe('https://open.larksuite.com');
    expect(loadFeishuConfig({ ...app, FEISHU_DOMAIN: 'http://127.0.0.1:9000/' }).domain).toBe('http://127.0.0.1:9000');
    expect(errorOf(() => loadFeishuConfig({ ...app, FEISHU_DOMAIN: 'ftp://x' })).message).toMatch(/^FEISHU_DOMAIN/);
  });

  it('tether setup and doctor check feishu.env with the loader the bridge runs', () => {
    expect(errorOf(() => BRIDGE_LOADERS.feishu({ ...app, FEISHU_APP_ID: 'cli_short' })).message).toMatch(/^FEISHU_APP_ID is "cli_short", expected cli_ followed by 16/);
    expect(BRIDGE_LOADERS.feishu(app)).toMatchObject({ appId: app.FEISHU_APP_ID, domain: 'https://open.feishu.cn' });
  });

  it('takes ou_ open ids and oc_ chat ids in the allowlist, nothing else', () => {
    expect(loadFeishuConfig({ ...app, FEISHU_ALLOWLIST: 'ou_abc123, oc_def456' }).allowlist).toEqual(['ou_abc123', 'oc_def456']);
    expect(errorOf(() => loadFeishuConfig({ ...app, FEISHU_ALLOWLIST: 'ou_abc,on_union' })).message).toMatch(/^FEISHU_ALLOWLIST .*"on_union" is not one/);
  });
});

describe('.env loading', () => {
  it('reads .env but never overrides variables already set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-env-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '.env'), 'TETHER_PORT=9000\nTETHER_MODEL=from-file\n');
    const env = readEnvironment({ TETHER_PORT: '7000' }, dir);
    expect(env.TETHER_PORT).toBe('7000');
    expect(env.TETHER_MODEL).toBe('from-file');
  });
});
