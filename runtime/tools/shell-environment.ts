// The environment a shell command starts with: the runtime's own, minus Tether's credentials (lib/secret-variables).
import type { Env } from '../../lib/config.js';
import { MIN_SECRET_LENGTH } from '../../lib/log.js';
import { isTetherSecretVariable, secretValuesIn } from '../../lib/secret-variables.js';

export { isTetherSecretVariable };

/**
 * `env` without Tether's credential variables, and without any other variable whose value carries
 * one of their secrets (a TETHER_BASE_URL with a password in it), so a command cannot take over the
 * bot or the provider account.
 */
export function shellEnvironment(env: Env): Record<string, string> {
  const secrets = secretValuesIn(env).filter((s) => s.length >= MIN_SECRET_LENGTH);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || isTetherSecretVariable(name)) continue;
    if (secrets.some((s) => value.includes(s))) continue;
    out[name] = value;
  }
  return out;
}
