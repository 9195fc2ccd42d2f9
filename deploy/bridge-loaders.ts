// Each bridge's env validated exactly as the bridge validates it at start, for setup (before writing) and doctor (on the host): one loader per row of the bridges table.
import type { BridgeSlug } from '../lib/bridges.js';
import { BRIDGES } from '../lib/bridges.js';
import { ConfigError } from '../lib/errors.js';
import { loadTelegramConfig, type Env } from '../lib/config.js';

/** Credentials present, for a bridge whose own loader is not in lib/config yet. */
function credentialsPresent(bridge: BridgeSlug): (env: Env) => void {
  return (env) => {
    for (const name of BRIDGES[bridge].credentials) if (!env[name]?.trim()) throw new ConfigError(name, 'is not set', `${BRIDGES[bridge].setupHint} and put it in ${bridge}.env`);
  };
}

export const BRIDGE_LOADERS: Record<BridgeSlug, (env: Env) => unknown> = {
  telegram: loadTelegramConfig,
  feishu: credentialsPresent('feishu'),
};
