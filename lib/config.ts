// All configuration, loaded and validated in one place: environment first, then a .env file that never overrides it.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { ConfigError } from './errors.js';
import { LOG_LEVELS, registerSecret, type LogLevel } from './log.js';
import { registerEnvironmentSecrets } from './secret-variables.js';
import { BRIDGES, type BridgeSlug } from './bridges.js';
import { PROVIDERS, isProviderName, type ProviderName } from './providers.js';

export type Env = Readonly<Record<string, string | undefined>>;
export type ApprovalMode = 'ask' | 'auto' | 'readonly';
export const APPROVAL_MODES: readonly ApprovalMode[] = ['ask', 'auto', 'readonly'];

/**
 * The process environment merged over `.env` in `cwd`: variables already set always win.
 * Returns a new object; process.env is left as it is.
 */
export function readEnvironment(env: Env = process.env, cwd = process.cwd()): Env {
  const file = join(cwd, '.env');
  let fromFile: Record<string, string> = {};
  if (existsSync(file)) {
    try {
      fromFile = parseDotenv(readFileSync(file));
    } catch (err) {
      throw new ConfigError('.env', `cannot be read (${(err as Error).message})`, `fix or remove ${file}`);
    }
  }
  const merged: Record<string, string | undefined> = { ...fromFile };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged[k] = v;
  return merged;
}

// ---------- validators: each names the variable, shows the value (masked if secret), says what is expected

function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** Shows enough of a secret to recognise it, never enough to use it. */
export function maskSecret(value: string): string {
  return value.length <= 8 ? '***' : `${value.slice(0, 3)}…(${value.length} chars)`;
}

function bad(name: string, value: string, expected: string, fix?: string, secret = false): ConfigError {
  const shown = secret ? maskSecret(value) : JSON.stringify(value);
  return new ConfigError(name, `is ${shown}, expected ${expected}`, fix);
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || n < min || n > max) throw bad(name, v, `a whole number from ${min} to ${max}`);
  return n;
}

function positiveSeconds(env: Env, name: string, fallback: number): number {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw bad(name, v, 'a positive number of seconds');
  return n;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const v = raw(env, name);
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v.toLowerCase())) throw bad(name, v, `one of ${allowed.join(', ')}`);
  return v.toLowerCase() as T;
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  return oneOf(env, name, ['on', 'off'] as const, fallback ? 'on' : 'off') === 'on';
}

function httpUrl(env: Env, name: string, fallback: string): string {
  const v = raw(env, name) ?? fallback;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw bad(name, v, 'an http:// or https:// URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw bad(name, v, 'an http:// or https:// URL');
  return v.replace(/\/+$/, '');
}

function list(env: Env, name: string, item: RegExp, expected: string): string[] {
  const v = raw(env, name);
  if (v === undefined) return [];
  const items = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const i of items) if (!item.test(i)) throw bad(name, v, `a comma-separated list of ${expected} (${JSON.stringify(i)} is not one)`);
  return items;
}

/** 127.0.0.0/8, ::1 and localhost: the only addresses the runtime may bind. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

// ---------- sections

export interface CommonConfig {
  stateDir: string;
  logLevel: LogLevel;
}

/** Also registers every secret the environment carries for redaction: every process loads this first. */
export function loadCommonConfig(env: Env): CommonConfig {
  registerEnvironmentSecrets(env);
  const explicit = raw(env, 'TETHER_STATE_DIR');
  const xdg = raw(env, 'XDG_STATE_HOME');
  const stateDir = explicit ? resolve(explicit) : join(xdg && isAbsolute(xdg) ? xdg : join(raw(env, 'HOME') ?? homedir(), '.local', 'state'), 'tether');
  return { stateDir, logLevel: oneOf(env, 'TETHER_LOG_LEVEL', LOG_LEVELS, 'info') };
}

export interface RuntimeConfig extends CommonConfig {
  host: string;
  port: number;
  /** TETHER_TOKEN when set; otherwise the runtime generates runtime.token in the state dir. */
  token: string | undefined;
  workspace: string;
  provider: ProviderName;
  model: string;
  baseUrl: string;
  apiKey: string | undefined;
  /** The variable a person should set (or fix) when the provider refuses the key. */
  apiKeyVariable: string;
  providerHeaders: Readonly<Record<string, string>>;
  streamUsage: boolean;
  workers: number;
  turnTimeoutMs: number;
  approval: ApprovalMode;
  /** Origins allowed to call the API (TETHER_ALLOWED_ORIGINS); empty refuses every Origin header. */
  allowedOrigins: string[];
  /** Characters of earlier turns sent as context (TETHER_CONTEXT_CHARS). */
  contextChars: number;
  /** Shell tool limits (TETHER_SHELL_TIMEOUT_S, TETHER_TOOL_OUTPUT_MAX). */
  shellTimeoutMs: number;
  toolOutputMax: number;
}

export function loadRuntimeConfig(env: Env, cwd = process.cwd()): RuntimeConfig {
  const common = loadCommonConfig(env);
  const host = raw(env, 'TETHER_HOST') ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    throw bad('TETHER_HOST', host, 'a loopback address (127.0.0.1, ::1 or localhost)', 'the runtime never listens on a network interface; bridges reach it over loopback');
  }
  const port = integer(env, 'TETHER_PORT', 7878, 0, 65535);
  const token = raw(env, 'TETHER_TOKEN');
  if (token !== undefined && token.length < 16) throw bad('TETHER_TOKEN', token, 'at least 16 characters', 'unset it to let the runtime generate one', true);
  registerSecret(token);

  const workspace = resolve(cwd, raw(env, 'TETHER_WORKSPACE') ?? '.');
  if (!existsSync(workspace) || !statSync(workspace).isDirectory()) {
    throw new ConfigError('TETHER_WORKSPACE', `is ${JSON.stringify(workspace)}, which is not an existing directory`, 'create it or point TETHER_WORKSPACE at one');
  }

  const providerRaw = (raw(env, 'TETHER_PROVIDER') ?? 'ollama').toLowerCase();
  if (!isProviderName(providerRaw)) throw bad('TETHER_PROVIDER', providerRaw, `one of ${Object.keys(PROVIDERS).join(', ')}`, 'or set TETHER_BASE_URL for any other OpenAI-compatible server');
  const spec = PROVIDERS[providerRaw];
  const baseUrl = httpUrl(env, 'TETHER_BASE_URL', spec.baseUrl);
  const model = raw(env, 'TETHER_MODEL') ?? spec.defaultModel;
  if (!model) throw new ConfigError('TETHER_MODEL', 'is not set', `${providerRaw} serves the model you started it with: set TETHER_MODEL to its name`);

  const keyVars = ['TETHER_API_KEY', ...spec.keyEnv];
  const keyVar = keyVars.find((k) => raw(env, k) !== undefined);
  const apiKey = keyVar ? raw(env, keyVar) : undefined;
  registerSecret(apiKey);
  const apiKeyVariable = keyVar ?? spec.keyEnv[0] ?? 'TETHER_API_KEY';
  if (!apiKey && spec.requiresKey && raw(env, 'TETHER_BASE_URL') === undefined) {
    throw new ConfigError(apiKeyVariable, 'is not set', `${providerRaw} needs an API key: set ${spec.keyEnv.join(' or ')} (or TETHER_API_KEY)`);
  }

  return {
    ...common,
    host,
    port,
    token,
    workspace,
    provider: providerRaw,
    model,
    baseUrl,
    apiKey,
    apiKeyVariable,
    providerHeaders: 'headers' in spec ? spec.headers : {},
    streamUsage: spec.streamUsage,
    workers: integer(env, 'TETHER_WORKERS', 2, 1, 64),
    turnTimeoutMs: positiveSeconds(env, 'TETHER_TURN_TIMEOUT_S', 900) * 1000,
    approval: oneOf(env, 'TETHER_APPROVAL', APPROVAL_MODES, 'ask'),
    allowedOrigins: list(env, 'TETHER_ALLOWED_ORIGINS', /^https?:\/\/[^/\s]+$/, 'origins like http://localhost:3000'),
    contextChars: integer(env, 'TETHER_CONTEXT_CHARS', 48_000, 0, 10_000_000),
    shellTimeoutMs: positiveSeconds(env, 'TETHER_SHELL_TIMEOUT_S', 120) * 1000,
    toolOutputMax: integer(env, 'TETHER_TOOL_OUTPUT_MAX', 64 * 1024, 1024, 16 * 1024 * 1024),
  };
}

/** What a client of the runtime needs: bridges and `tether chat`. */
export interface ClientConfig extends CommonConfig {
  runtimeUrl: string;
  /** TETHER_TOKEN when set; otherwise read from runtime.token in the state dir (lib/token). */
  token: string | undefined;
}

export function loadClientConfig(env: Env): ClientConfig {
  const common = loadCommonConfig(env);
  const runtimeUrl = httpUrl(env, 'TETHER_RUNTIME_URL', 'http://127.0.0.1:7878');
  if (!isLoopbackHost(new URL(runtimeUrl).hostname)) {
    throw bad('TETHER_RUNTIME_URL', runtimeUrl, 'a loopback URL such as http://127.0.0.1:7878', 'the runtime only listens on loopback; run the bridge on the same host');
  }
  const token = raw(env, 'TETHER_TOKEN');
  registerSecret(token);
  return { ...common, runtimeUrl, token };
}

/** Settings every bridge shares, whatever its platform. */
export interface BridgeConfig extends ClientConfig {
  pairing: boolean;
  /** Short tool-progress lines while a turn runs (TETHER_PROGRESS=on|off). */
  progress: boolean;
}

export function loadBridgeConfig(env: Env): BridgeConfig {
  return { ...loadClientConfig(env), pairing: onOff(env, 'TETHER_PAIRING', true), progress: onOff(env, 'TETHER_PROGRESS', true) };
}

export interface TelegramConfig extends BridgeConfig {
  botToken: string;
  apiRoot: string;
  allowlist: string[];
}

export const TELEGRAM_TOKEN_SHAPE = /^\d{3,}:[A-Za-z0-9_-]{30,}$/;

export function loadTelegramConfig(env: Env): TelegramConfig {
  const botToken = raw(env, 'TELEGRAM_BOT_TOKEN');
  if (!botToken) throw new ConfigError('TELEGRAM_BOT_TOKEN', 'is not set', 'create a bot with @BotFather and put its token in telegram.env (or .env)');
  registerSecret(botToken);
  if (!TELEGRAM_TOKEN_SHAPE.test(botToken)) throw bad('TELEGRAM_BOT_TOKEN', botToken, 'a token like 123456789:AA… as @BotFather prints it', undefined, true);
  return {
    ...loadBridgeConfig(env),
    botToken,
    apiRoot: httpUrl(env, 'TELEGRAM_API_ROOT', 'https://api.telegram.org'),
    allowlist: list(env, 'TELEGRAM_ALLOWLIST', /^-?\d+$/, 'numeric Telegram user or chat ids'),
  };
}

export interface FeishuConfig extends BridgeConfig {
  appId: string;
  appSecret: string;
  /** The open platform's base URL, without a trailing slash: https://open.feishu.cn, https://open.larksuite.com or a fake's. */
  domain: string;
  allowlist: string[];
}

/** The shape the SDK's WSClient checks; an id of another shape makes it silently do nothing (notes §1.2). */
export const FEISHU_APP_ID_SHAPE = /^cli_[0-9a-f]{16}$/;

/** FEISHU_DOMAIN names: one row per platform the same app model runs on. */
export const FEISHU_DOMAINS: Readonly<Record<string, string>> = {
  feishu: 'https://open.feishu.cn',
  lark: 'https://open.larksuite.com',
};

export function loadFeishuConfig(env: Env): FeishuConfig {
  const appId = raw(env, 'FEISHU_APP_ID');
  if (!appId) throw new ConfigError('FEISHU_APP_ID', 'is not set', 'copy the App ID from your app\'s Credentials & Basic Info page (open.feishu.cn/app or open.larksuite.com/app) into feishu.env; see docs/feishu.md');
  if (!FEISHU_APP_ID_SHAPE.test(appId)) throw bad('FEISHU_APP_ID', appId, 'cli_ followed by 16 hexadecimal characters (e.g. cli_a1b2c3d4e5f60718)', 'copy it whole from Credentials & Basic Info');
  const appSecret = raw(env, 'FEISHU_APP_SECRET');
  if (!appSecret) throw new ConfigError('FEISHU_APP_SECRET', 'is not set', 'copy the App Secret from the same Credentials & Basic Info page into feishu.env');
  registerSecret(appSecret);
  const domainRaw = raw(env, 'FEISHU_DOMAIN') ?? 'feishu';
  const named = FEISHU_DOMAINS[domainRaw.toLowerCase()];
  // The SDK appends paths to a custom domain as given: a trailing slash would double it.
  const domain = named ?? (/^https?:\/\//i.test(domainRaw) ? httpUrl(env, 'FEISHU_DOMAIN', domainRaw) : undefined);
  if (domain === undefined) throw bad('FEISHU_DOMAIN', domainRaw, 'feishu, lark, or a base URL like https://open.feishu.cn');
  return {
    ...loadBridgeConfig(env),
    appId,
    appSecret,
    domain,
    allowlist: list(env, 'FEISHU_ALLOWLIST', /^o[uc]_[A-Za-z0-9]+$/, 'ou_… open ids and oc_… chat ids'),
  };
}

/** True when the environment carries every credential of the bridge's row (used by `tether up`). */
export function hasBridgeCredentials(env: Env, slug: BridgeSlug): boolean {
  return BRIDGES[slug].credentials.every((k) => raw(env, k) !== undefined);
}
