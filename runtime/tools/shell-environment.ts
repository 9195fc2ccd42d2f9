// The environment a shell command starts with: the runtime's own, minus Tether's credentials (lib/secret-variables).
import type { Env } from '../../lib/config.js';
import { isTetherSecretVariable, secretCarrier } from '../../lib/secret-variables.js';

export { isTetherSecretVariable };

/**
 * `env` without Tether's credential variables, and without any other variable whose value carries
 * one of their secrets (a TETHER_BASE_URL with a password in it, however short), so a command
 * cannot take over the bot or the provider account.
 */
export function shellEnvironment(env: Env): Record<string, string> {
  const carriesSecret = secretCarrier(env);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || isTetherSecretVariable(name) || carriesSecret(value)) continue;
    out[name] = value;
  }
  return out;
}
