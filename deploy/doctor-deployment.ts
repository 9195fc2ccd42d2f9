// What `tether doctor` looks at: the env files in /etc/tether, the installed units, and each process's environment as systemd would give it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BRIDGE_SLUGS, BRIDGES, type BridgeSlug } from '../lib/bridges.js';
import type { Env } from '../lib/config.js';
import { registerEnvironmentSecrets } from '../lib/secret-variables.js';
import { parseEnvFile } from './env-file.js';
import { parseUnit, unitEnvironment, type UnitFile } from './unit-file.js';

export const RUNTIME_UNIT = 'tether-runtime.service';
/** Where the runtime's unit puts state; a bridge's is `/var/lib/tether-<bridge>`, its own user's. --state-dir moves both. */
export const HOST_STATE_DIR = '/var/lib/tether';

export interface DoctorOptions {
  envDir: string;
  unitsDir: string;
  /** Overrides the runtime unit's TETHER_STATE_DIR, and a bridge's `/var/lib/tether-<bridge>` becomes `<stateDir>-<bridge>` (a deployment under test, or moved state dirs). */
  stateDir?: string;
  /** Network checks give up after this long. */
  timeoutMs: number;
}

/** One process of the deployment: its env file, its installed unit, and the environment they make together. */
export interface DeployedProcess {
  /** `runtime` or a bridge slug. */
  name: 'runtime' | BridgeSlug;
  envFile: string;
  unitName: string;
  unit: UnitFile | undefined;
  /** The unit's Environment= under the env file's lines, as systemd applies them; undefined when the file cannot be read. */
  env: Env | undefined;
  /** Its TETHER_STATE_DIR: each bridge has its own, apart from the runtime's (health file, lock, database). */
  stateDir: string;
  /** Why the env file could not be read (its errno code), when it could not. */
  readError?: string;
}

export interface Deployment {
  options: DoctorOptions;
  /** The runtime's state dir. */
  stateDir: string;
  runtime: DeployedProcess;
  /** Bridges with an env file or an installed unit. */
  bridges: Array<DeployedProcess & { name: BridgeSlug }>;
}

function readUnit(options: DoctorOptions, unitName: string): UnitFile | undefined {
  const path = join(options.unitsDir, unitName);
  try {
    return parseUnit(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** /var/lib/tether, /var/lib/tether/… and /var/lib/tether-<bridge> follow --state-dir; any other path stays. */
function moved(value: string, stateDir: string | undefined): string {
  const next = value.charAt(HOST_STATE_DIR.length);
  return stateDir && value.startsWith(HOST_STATE_DIR) && (next === '' || next === '/' || next === '-') ? stateDir + value.slice(HOST_STATE_DIR.length) : value;
}

/** Where the unit puts a process's state when neither the unit nor the env file says. */
function defaultStateDir(name: 'runtime' | BridgeSlug): string {
  return name === 'runtime' ? HOST_STATE_DIR : `${HOST_STATE_DIR}-${name}`;
}

function loadProcess<N extends 'runtime' | BridgeSlug>(options: DoctorOptions, name: N, unitName: string): DeployedProcess & { name: N } {
  const envFile = join(options.envDir, `${name}.env`);
  const unit = readUnit(options, unitName);
  const fromUnit = Object.fromEntries(Object.entries(unit ? unitEnvironment(unit) : {}).map(([k, v]) => [k, moved(v, options.stateDir)]));
  // The runtime's is what --state-dir names; a bridge's follows it (<dir>-<bridge>) unless set elsewhere.
  const stateDirOf = (stated: string) => (name === 'runtime' ? (options.stateDir ?? stated) : moved(stated, options.stateDir));
  const unitStateDir = fromUnit.TETHER_STATE_DIR ?? moved(defaultStateDir(name), options.stateDir);
  let fileValues: Record<string, string>;
  try {
    fileValues = parseEnvFile(readFileSync(envFile, 'utf8'));
  } catch (err) {
    return { name, envFile, unitName, unit, env: undefined, stateDir: stateDirOf(unitStateDir), readError: (err as NodeJS.ErrnoException).code ?? 'unreadable' };
  }
  const env: Record<string, string> = { ...fromUnit, ...fileValues };
  env.TETHER_STATE_DIR = stateDirOf(env.TETHER_STATE_DIR ?? unitStateDir);
  // Every value read is a secret to keep out of what the doctor prints.
  registerEnvironmentSecrets(env);
  return { name, envFile, unitName, unit, env, stateDir: env.TETHER_STATE_DIR };
}

export function loadDeployment(options: DoctorOptions): Deployment {
  const runtime = loadProcess(options, 'runtime', RUNTIME_UNIT);
  const bridges = BRIDGE_SLUGS.filter((b) => existsSync(join(options.envDir, `${b}.env`)) || existsSync(join(options.unitsDir, BRIDGES[b].unit))).map((b) => loadProcess(options, b, BRIDGES[b].unit));
  return { options, stateDir: runtime.stateDir, runtime, bridges };
}
