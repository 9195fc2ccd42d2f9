// Each bridge's env validated exactly as the bridge validates it at start, for setup (before writing) and doctor (on the host): one loader per row of the bridges table.
import type { BridgeSlug } from '../lib/bridges.js';
import { loadFeishuConfig, loadTelegramConfig, type Env } from '../lib/config.js';

export const BRIDGE_LOADERS: Record<BridgeSlug, (env: Env) => unknown> = {
  telegram: loadTelegramConfig,
  feishu: loadFeishuConfig,
};
