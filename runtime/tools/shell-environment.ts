// The environment a shell command starts with: the runtime's own, minus Tether's secrets (a list plus name patterns).
import { PROVIDERS } from '../models/providers.js';
import type { Env } from '../../lib/config.js';

/** Credentials Tether itself reads; a command run by the model must never see them. */
export const TETHER_SECRET_VARIABLES: ReadonlySet<string> = new Set([
  'TETHER_TOKEN',
  'TETHER_API_KEY',
  'TELEGRAM_BOT_TOKEN',
  'FEISHU_APP_ID',
  'FEISHU_APP_SECRET',
  'SLACK_BOT_TOKEN',
  'SLACK_APP_TOKEN',
  'DISCORD_BOT_TOKEN',
  ...Object.values(PROVIDERS).flatMap((p) => p.keyEnv),
]);

/**
 * Names that look like a key of a model provider or a credential of a chat platform, so a provider
 * or bridge added later is covered without touching the list.
 */
export const SECRET_VARIABLE_PATTERNS: readonly RegExp[] = [
  /_API_KEY$/i,
  /^(TETHER|TELEGRAM|FEISHU|LARK|SLACK|DISCORD)_\w*(TOKEN|SECRET|KEY|PASSWORD)\w*$/i,
];

export function isTetherSecretVariable(name: string): boolean {
  return TETHER_SECRET_VARIABLES.has(name.toUpperCase()) || SECRET_VARIABLE_PATTERNS.some((p) => p.test(name));
}

export function shellEnvironment(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && !isTetherSecretVariable(name)) out[name] = value;
  }
  return out;
}
