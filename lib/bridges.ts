// The bridges table: one row per chat platform, read by `tether up`, `tether setup` and `tether doctor`; a new bridge is a row, its unit and its loader.

export interface BridgeSpec {
  /** For people: prompts, RUNBOOK, doctor lines. */
  name: string;
  /** Variables the bridge cannot start without, in the order a person gets them from the platform. */
  credentials: readonly string[];
  /** Variable of the ids always allowed to talk, and what such an id looks like (for the wizard's question). */
  allowlist: { variable: string; shape: string };
  /** Settings a deployment may carry besides the credentials (a test fake's URL, a Lark tenant). */
  settings: readonly string[];
  /** Where the credentials come from, for a person who has none yet. */
  setupHint: string;
  /** Its unit in systemd/: `systemctl enable --now <unit>` is the whole step for the bridge. */
  unit: string;
  /** Prefixes of its own variables: `tether up` gives its child all of them and no other secret. */
  namespaces: readonly string[];
}

/**
 * The row key is the slug: `tether <slug>` runs the bridge, `<slug>.env` holds its secrets, and its
 * state files are `<slug>.db` and `<slug>.health.json`.
 */
export const BRIDGES = {
  telegram: {
    name: 'Telegram',
    credentials: ['TELEGRAM_BOT_TOKEN'],
    allowlist: { variable: 'TELEGRAM_ALLOWLIST', shape: 'numeric Telegram user or chat ids' },
    settings: ['TELEGRAM_API_ROOT'],
    setupHint: 'create a bot with @BotFather',
    unit: 'tether-telegram.service',
    namespaces: ['TELEGRAM_'],
  },
  feishu: {
    name: 'Feishu / Lark',
    credentials: ['FEISHU_APP_ID', 'FEISHU_APP_SECRET'],
    allowlist: { variable: 'FEISHU_ALLOWLIST', shape: 'ou_… open ids or oc_… chat ids' },
    settings: ['FEISHU_DOMAIN'],
    setupHint: 'create a self-built app on the Feishu or Lark developer console',
    unit: 'tether-feishu.service',
    namespaces: ['FEISHU_'],
  },
} as const satisfies Record<string, BridgeSpec>;

export type BridgeSlug = keyof typeof BRIDGES;

export const BRIDGE_SLUGS = Object.keys(BRIDGES) as BridgeSlug[];

export function isBridgeSlug(name: string): name is BridgeSlug {
  return Object.hasOwn(BRIDGES, name);
}
