// What `tether setup` needs to write a bundle, gathered from flags, the environment (or --secrets-stdin) and, for people, questions; with --non-interactive every missing value is named and nothing is asked.
import { randomBytes } from 'node:crypto';
import { BRIDGE_SLUGS, BRIDGES, isBridgeSlug, type BridgeSlug } from '../lib/bridges.js';
import type { Env } from '../lib/config.js';
import { TetherError } from '../lib/errors.js';
import { isProviderName, PROVIDERS, type ProviderName } from '../lib/providers.js';
import { SECRET_VARIABLES } from '../lib/secret-variables.js';
import { RUNTIME_SETTINGS, type SetupAnswers } from './bundle.js';
import { SetupUsageError, type SetupFlags } from './setup-flags.js';
import { isTargetName, TARGET_NAMES, TARGETS, type TargetName } from './targets.js';

/** How the wizard talks to a person; the terminal implementation is cli/terminal-questions. */
export interface Questions {
  choose(question: string, choices: ReadonlyArray<{ value: string; label: string }>): Promise<string>;
  /** Several of the choices, at least one. */
  chooseSome(question: string, choices: ReadonlyArray<{ value: string; label: string }>): Promise<string[]>;
  /** `fallback` is taken on an empty answer; without one, an empty answer is allowed only when `optional`. */
  text(question: string, options?: { fallback?: string; optional?: boolean }): Promise<string>;
  /** Not echoed. */
  secret(question: string): Promise<string>;
  confirm(question: string): Promise<boolean>;
}

export interface AnswerSources {
  flags: SetupFlags;
  /** The environment, with --secrets-stdin values over it. */
  values: Env;
  /** Absent with --non-interactive: a missing value is then an error, never a question. */
  ask?: Questions;
}

interface Missing {
  name: string;
  how: string;
}

export class MissingValuesError extends TetherError {
  constructor(readonly missing: readonly Missing[]) {
    super('missing_values', `--non-interactive and nothing written: missing ${missing.map((m) => `${m.name} (${m.how})`).join('; ')}`);
  }
}

/** A value a person typed is shown back only when it looks like a name from a table; anything else may be a pasted secret. */
export function shownChoice(value: string): string {
  return /^[a-z][a-z0-9-]{0,19}$/.test(value) ? JSON.stringify(value) : '(not shown)';
}

const SECRET_SOURCES = 'put it in the environment or give it with --secrets-stdin, never as an argument';

function present(values: Env, name: string): string | undefined {
  const v = values[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

export async function gatherAnswers({ flags, values, ask }: AnswerSources): Promise<{ answers: SetupAnswers; out: string }> {
  const missing: Missing[] = [];
  /** Asks when a person is there; otherwise records what is missing and carries on, so every gap is named at once. */
  const need = async (name: string, how: string, question: (q: Questions) => Promise<string>): Promise<string> => {
    if (ask) return question(ask);
    missing.push({ name, how });
    return '';
  };

  const target = (flags.target ?? (await need('--target', `one of ${TARGET_NAMES.join(', ')}`, (q) => q.choose('Where will Tether run?', TARGET_NAMES.map((t) => ({ value: t, label: TARGETS[t].name })))))) as TargetName;
  if (target && !isTargetName(target)) throw new SetupUsageError(`unknown --target ${shownChoice(target)}, expected one of ${TARGET_NAMES.join(', ')}`);

  const bridgeChoices = BRIDGE_SLUGS.map((b) => ({ value: b, label: BRIDGES[b].name }));
  const bridgeNames = flags.bridges.length > 0 ? flags.bridges : ask ? await ask.chooseSome('Which chat apps?', bridgeChoices) : (missing.push({ name: '--bridge', how: `one or more of ${BRIDGE_SLUGS.join(', ')}` }), []);
  for (const b of bridgeNames) if (!isBridgeSlug(b)) throw new SetupUsageError(`unknown --bridge ${shownChoice(b)}, expected ${BRIDGE_SLUGS.join(', ')}`);
  const bridges = [...new Set(bridgeNames)] as BridgeSlug[];

  const providerName = flags.provider ?? (await need('--provider', 'a row of the provider table, e.g. openai, deepseek, ollama (docs/providers.md)', (q) => q.choose('Which model provider?', Object.keys(PROVIDERS).map((p) => ({ value: p, label: p })))));
  if (providerName && !isProviderName(providerName)) throw new SetupUsageError(`unknown --provider ${shownChoice(providerName)}, expected one of ${Object.keys(PROVIDERS).join(', ')}`);
  const provider = providerName as ProviderName;
  const spec = provider ? PROVIDERS[provider] : undefined;

  const runtimeSettings: Record<string, string> = {};
  for (const name of RUNTIME_SETTINGS) {
    const v = present(values, name);
    if (v !== undefined) runtimeSettings[name] = v;
  }
  if (flags.model) runtimeSettings.TETHER_MODEL = flags.model;
  if (spec && !runtimeSettings.TETHER_MODEL && !spec.defaultModel) {
    runtimeSettings.TETHER_MODEL = await need('--model', `${provider} serves whatever model you started it with: name it`, (q) => q.text(`Model name (as ${provider} serves it)`));
  }

  let providerKey: SetupAnswers['providerKey'];
  if (spec) {
    const variable = spec.keyEnv[0] ?? 'TETHER_API_KEY';
    const given = ['TETHER_API_KEY', ...spec.keyEnv].map((k) => present(values, k)).find((v) => v !== undefined);
    const needed = spec.requiresKey && runtimeSettings.TETHER_BASE_URL === undefined;
    const value = given ?? (needed ? await need(variable, `the ${provider} API key; ${SECRET_SOURCES}`, (q) => q.secret(`${variable} (the ${provider} API key, not shown)`)) : undefined);
    if (value) providerKey = { variable, value };
  }

  const bridgeValues: Partial<Record<BridgeSlug, Record<string, string>>> = {};
  for (const b of bridges) {
    const row = BRIDGES[b];
    const got: Record<string, string> = {};
    for (const name of row.credentials) {
      const secret = SECRET_VARIABLES[name]?.redact ?? true;
      got[name] = present(values, name) ?? (await need(name, `${row.setupHint}; ${SECRET_SOURCES}`, (q) => (secret ? q.secret(`${name} (${row.setupHint}; not shown)`) : q.text(`${name} (${row.setupHint})`))));
    }
    const allowlist = present(values, row.allowlist.variable) ?? (ask ? await ask.text(`${row.allowlist.variable}: ${row.allowlist.shape} always allowed, comma-separated (empty: pair from the phone instead)`, { optional: true }) : undefined);
    if (allowlist) got[row.allowlist.variable] = allowlist;
    for (const name of row.settings) {
      const v = present(values, name);
      if (v !== undefined) got[name] = v;
    }
    bridgeValues[b] = got;
  }

  const out = flags.out ?? (await need('--out', 'the directory to write the bundle to', (q) => q.text('Write the bundle to', { fallback: './tether-bundle' })));
  if (missing.length > 0) throw new MissingValuesError(missing);
  return { answers: { target, bridges, provider, runtimeSettings, ...(providerKey ? { providerKey } : {}), bridgeValues, token: randomBytes(32).toString('base64url') }, out };
}
