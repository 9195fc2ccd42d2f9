// Renders a deploy bundle from the answers of `tether setup`: env files with the right split of secrets, units, install.sh, cloud-init, RUNBOOK.
import { readFileSync } from 'node:fs';
import { BRIDGES, type BridgeSlug } from '../lib/bridges.js';
import { PROVIDERS, type ProviderName } from '../lib/providers.js';
import { renderEnvFile, type EnvEntries } from './env-file.js';
import { unitsDir } from './package-files.js';
import { TARGETS, type TargetName } from './targets.js';
import { fillTemplate, readTemplate } from './template.js';

export interface SetupAnswers {
  target: TargetName;
  bridges: BridgeSlug[];
  provider: ProviderName;
  /** Runtime settings a person gave (RUNTIME_SETTINGS), by variable. */
  runtimeSettings: Readonly<Record<string, string>>;
  /** The provider's key under the variable it is read from; absent for a local model server. */
  providerKey?: { variable: string; value: string };
  /** Per bridge: its credentials, allowlist and settings, by variable. */
  bridgeValues: Readonly<Partial<Record<BridgeSlug, Readonly<Record<string, string>>>>>;
  /** The runtime's bearer token, shared by the runtime and every bridge. */
  token: string;
}

/** Runtime variables setup carries into runtime.env when given, in this order. */
export const RUNTIME_SETTINGS = ['TETHER_MODEL', 'TETHER_BASE_URL', 'TETHER_PORT', 'TETHER_APPROVAL'] as const;

export interface BundleFile {
  /** Relative to the bundle directory. */
  path: string;
  content: string;
  mode: number;
}

export interface BundleContext {
  /** Node.js version install.sh installs when the host has none recent enough. */
  nodeVersion: string;
  /** When the bundle was written (ISO), for the files' headers. */
  writtenAt: string;
}

const RUNTIME_UNIT = 'tether-runtime.service';

/** Values pasted into install.sh: table-made names, a version, a loopback URL; anything else would need quoting. */
const SHELL_SAFE = /^[A-Za-z0-9_.:/ -]*$/;

function shellValues(values: Record<string, string>): Record<string, string> {
  for (const [k, v] of Object.entries(values)) if (!SHELL_SAFE.test(v)) throw new Error(`install.sh value {{${k}}} is not shell-safe: ${JSON.stringify(v)}`);
  return values;
}

export function runtimePort(answers: SetupAnswers): string {
  return answers.runtimeSettings.TETHER_PORT ?? '7878';
}

export function runtimeEnvEntries(answers: SetupAnswers): EnvEntries {
  const entries: [string, string][] = [['TETHER_PROVIDER', answers.provider]];
  for (const name of RUNTIME_SETTINGS) {
    const value = answers.runtimeSettings[name];
    if (value !== undefined) entries.push([name, value]);
  }
  if (answers.providerKey) entries.push([answers.providerKey.variable, answers.providerKey.value]);
  entries.push(['TETHER_TOKEN', answers.token]);
  return entries;
}

/** A bridge gets the runtime token and its own credentials: never the model key, never another bridge's. */
export function bridgeEnvEntries(answers: SetupAnswers, bridge: BridgeSlug): EnvEntries {
  const spec = BRIDGES[bridge];
  const values = answers.bridgeValues[bridge] ?? {};
  const entries: [string, string][] = [['TETHER_TOKEN', answers.token]];
  if (answers.runtimeSettings.TETHER_PORT !== undefined) entries.push(['TETHER_RUNTIME_URL', `http://127.0.0.1:${runtimePort(answers)}`]);
  for (const name of [...spec.credentials, spec.allowlist.variable, ...spec.settings]) {
    const value = values[name];
    if (value !== undefined) entries.push([name, value]);
  }
  return entries;
}

function envHeader(file: string, unit: string, holds: string, answers: SetupAnswers, context: BundleContext): string[] {
  return [
    `${file}: written by tether setup (target ${answers.target}) at ${context.writtenAt}.`,
    `Installed as /etc/tether/${file} (root, 0600); systemd reads it for ${unit} (EnvironmentFile=).`,
    `${holds} Keep it out of version control, chats and tickets.`,
  ];
}

function unitFiles(answers: SetupAnswers): BundleFile[] {
  const units = [RUNTIME_UNIT, ...answers.bridges.map((b) => BRIDGES[b].unit)];
  return units.map((u) => ({ path: `units/${u}`, content: readFileSync(`${unitsDir()}${u}`, 'utf8'), mode: 0o644 }));
}

function installScript(answers: SetupAnswers, context: BundleContext): string {
  const values = shellValues({
    TARGET: answers.target,
    NODE_VERSION: context.nodeVersion,
    ENV_FILES: ['runtime.env', ...answers.bridges.map((b) => `${b}.env`)].join(' '),
    UNITS: [RUNTIME_UNIT, ...answers.bridges.map((b) => BRIDGES[b].unit)].join(' '),
    BRIDGES: answers.bridges.join(' '),
    BRIDGE_UNITS: answers.bridges.map((b) => BRIDGES[b].unit).join(' '),
    PAIR_PLATFORM: answers.bridges[0] ?? '',
    RUNTIME_HEALTH_URL: `http://127.0.0.1:${runtimePort(answers)}/health`,
  });
  return fillTemplate('install.sh', readTemplate('install.sh'), values);
}

function runbook(answers: SetupAnswers): string {
  const target = TARGETS[answers.target];
  const bridgeUnits = answers.bridges.map((b) => BRIDGES[b].unit.replace(/\.service$/, ''));
  const steps = fillTemplate(target.runbookSteps, readTemplate(target.runbookSteps), {});
  const pairing = answers.bridges
    .map(
      (b) =>
        `* ${BRIDGES[b].name}: \`sudo tether pair code ${b}\` prints a fresh code; send \`/pair CODE\` to the bot in a private chat. \`sudo tether pair list ${b}\` shows who may talk. ` +
        `The bridge runs as its own user \`tether-${b}\` with its state in \`/var/lib/tether-${b}\`, and \`sudo tether pair … ${b}\` runs as that user there; without the wrapper: ` +
        `\`sudo runuser -u tether-${b} -- env TETHER_STATE_DIR=/var/lib/tether-${b} /usr/bin/node /opt/tether/bin/tether.js pair code ${b}\`.`,
    )
    .join('\n');
  return fillTemplate('runbook.md', readTemplate('runbook.md'), {
    TARGET_NAME: target.name,
    TARGET_STEPS: steps.trimEnd(),
    BRIDGE_NAMES: answers.bridges.map((b) => BRIDGES[b].name).join(', ') || 'none',
    UNITS: ['tether-runtime', ...bridgeUnits].join(' '),
    PAIRING: pairing || '* No bridge was chosen: talk to the runtime over SSH with `sudo tether chat`.',
    PROVIDER: answers.provider,
    MODEL: answers.runtimeSettings.TETHER_MODEL ?? (PROVIDERS[answers.provider].defaultModel || '(set TETHER_MODEL)'),
  });
}

export function renderBundle(answers: SetupAnswers, context: BundleContext): BundleFile[] {
  const files: BundleFile[] = [
    {
      path: 'runtime.env',
      content: renderEnvFile(envHeader('runtime.env', RUNTIME_UNIT, 'Holds the model key and the runtime token.', answers, context), runtimeEnvEntries(answers)),
      mode: 0o600,
    },
    ...answers.bridges.map((b) => ({
      path: `${b}.env`,
      content: renderEnvFile(envHeader(`${b}.env`, BRIDGES[b].unit, `Holds the ${BRIDGES[b].name} credentials and the runtime token.`, answers, context), bridgeEnvEntries(answers, b)),
      mode: 0o600,
    })),
    ...unitFiles(answers),
    { path: 'install.sh', content: installScript(answers, context), mode: 0o755 },
    { path: 'RUNBOOK.md', content: runbook(answers), mode: 0o644 },
  ];
  if (TARGETS[answers.target].cloudInit) files.push({ path: 'cloud-init.yaml', content: fillTemplate('cloud-init.yaml', readTemplate('cloud-init.yaml'), cloudInitValues(answers)), mode: 0o644 });
  return files;
}

/** cloud-init fetches the env files from the Key Vault the plan fills; user data never carries a secret. */
function cloudInitValues(answers: SetupAnswers): Record<string, string> {
  return { ENV_FILES: ['runtime.env', ...answers.bridges.map((b) => `${b}.env`)].join(' ') };
}
