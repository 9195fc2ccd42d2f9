// Which environment variables hold Tether's credentials, and the secret values an environment carries: one table.
import { PROVIDERS } from './providers.js';
import { MIN_SECRET_LENGTH, registerSecret, registerUrlCredential } from './log.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Tether's own credentials, one row each: `redact` says whether the value is a secret (replaced by
 * [redacted] in logs and in everything a tool says); every row is kept out of a shell command's
 * environment. FEISHU_APP_ID is not secret, but with the app secret it would let a command act as the bot.
 */
export const SECRET_VARIABLES: Readonly<Record<string, { redact: boolean }>> = {
  TETHER_TOKEN: { redact: true },
  TETHER_API_KEY: { redact: true },
  TELEGRAM_BOT_TOKEN: { redact: true },
  FEISHU_APP_ID: { redact: false },
  FEISHU_APP_SECRET: { redact: true },
  SLACK_BOT_TOKEN: { redact: true },
  SLACK_APP_TOKEN: { redact: true },
  DISCORD_BOT_TOKEN: { redact: true },
  ...Object.fromEntries(Object.values(PROVIDERS).flatMap((p) => p.keyEnv.map((name) => [name, { redact: true }]))),
};

/**
 * Names that look like a key of a model provider or a credential of a chat platform, so a provider
 * or bridge added later is covered without touching the table.
 */
export const SECRET_VARIABLE_PATTERNS: readonly RegExp[] = [
  /_API_KEY$/i,
  /^(TETHER|TELEGRAM|FEISHU|LARK|SLACK|DISCORD)_\w*(TOKEN|SECRET|KEY|PASSWORD)\w*$/i,
];

/** Variables whose value may be a URL with a password in it (`http://user:pass@host/v1`): Tether's own namespaces. */
const URL_VARIABLE_PATTERN = /^(TETHER|TELEGRAM|FEISHU|LARK|SLACK|DISCORD)_/i;

export function isTetherSecretVariable(name: string): boolean {
  return Object.hasOwn(SECRET_VARIABLES, name.toUpperCase()) || SECRET_VARIABLE_PATTERNS.some((p) => p.test(name));
}

function isRedactedVariable(name: string): boolean {
  const row = SECRET_VARIABLES[name.toUpperCase()];
  return row ? row.redact : SECRET_VARIABLE_PATTERNS.some((p) => p.test(name));
}

/**
 * The credential inside a URL: its password, or its user name when that stands alone
 * (`https://TOKEN@host`), both as written and percent-decoded. Empty for anything else.
 */
export function urlCredentials(value: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(value.trim())) return [];
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return [];
  }
  const raw = url.password || url.username;
  if (!raw) return [];
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // a malformed escape: the raw form is all there is
  }
  return [...new Set([raw, decoded])];
}

/** The credentials in Tether's URL variables (`TETHER_BASE_URL=http://user:pass@host/v1`), whatever their length. */
export function urlCredentialsIn(env: Env): string[] {
  const values: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !isRedactedVariable(name) && URL_VARIABLE_PATTERN.test(name)) values.push(...urlCredentials(value));
  }
  return [...new Set(values)];
}

/** Every secret value `env` carries: the values of credential variables, and the credentials in Tether's URL variables. */
export function secretValuesIn(env: Env): string[] {
  const values: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.trim() !== '' && isRedactedVariable(name)) values.push(value, value.trim());
  }
  return [...new Set([...values, ...urlCredentialsIn(env)])];
}

/**
 * Whether a value carries one of `env`'s secrets, for an environment handed to another process: a
 * secret value long enough to search for, or a URL credential in its URL shape (`:pass@`,
 * `//user@`) whatever its length, so a URL with a five-character password is found too while a
 * short password is not looked for in every value.
 */
export function secretCarrier(env: Env): (value: string) => boolean {
  const values = secretValuesIn(env).filter((s) => s.length >= MIN_SECRET_LENGTH);
  const inUrls = urlCredentialsIn(env).flatMap((c) => [`:${c}@`, `//${c}@`]);
  return (value) => values.some((s) => value.includes(s)) || inUrls.some((s) => value.includes(s));
}

/**
 * Registers for redaction every secret in `env`, whether this process uses it or not: the runtime
 * never uses the bot token, but a tool may still come across it (a `.env` copy, another process's
 * /proc/<pid>/environ), and it must read [redacted] there too. URL credentials are registered by
 * their shape as well, so a short one is redacted where it stands in a URL.
 */
export function registerEnvironmentSecrets(env: Env): void {
  for (const value of secretValuesIn(env)) registerSecret(value);
  for (const value of urlCredentialsIn(env)) registerUrlCredential(value);
}
