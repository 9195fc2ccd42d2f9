// The checks of `tether doctor` that every deployment has: Node, env files, state dirs and token, disk, runtime health and auth, provider, bridge health files, units and their users.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadRuntimeConfig, type RuntimeConfig } from '../lib/config.js';
import { describeError } from '../lib/errors.js';
import { hasProcStat, isZombie, readProcStat } from '../lib/proc.js';
import { TOKEN_FILE } from '../lib/token.js';
import { probeProvider } from '../runtime/models/probe.js';
import { BRIDGE_LOADERS } from './bridge-loaders.js';
import type { DeployedProcess, Deployment } from './doctor-deployment.js';
import { fail, ok, warn, type CheckResult } from './doctor-result.js';
import { unitValues } from './unit-file.js';

const MIN_NODE = [20, 18] as const;
const DISK_FAIL_BYTES = 100 * 1024 * 1024;
const DISK_WARN_BYTES = 1024 * 1024 * 1024;

export function checkNode(version = process.versions.node): CheckResult[] {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const recent = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return [recent ? ok('node', `Node.js ${version}`) : fail('node', `Node.js ${version} is older than ${MIN_NODE.join('.')}`, 'install Node.js 20.18 or newer (install.sh does: it fetches the official build)')];
}

function ownerOnly(path: string): boolean {
  return (statSync(path).mode & 0o077) === 0;
}

/** Readable, owner-only, and accepted by the loader its process runs at start. */
export function checkEnvFile(p: DeployedProcess, validate: (env: NonNullable<DeployedProcess['env']>) => unknown): CheckResult[] {
  const id = `env:${p.name}`;
  if (p.readError === 'ENOENT') return [fail(id, `${p.envFile} is missing`, `write a bundle with tether setup and run its install.sh, or create the file (mode 0600) as docs/deploy.md shows`)];
  if (p.readError === 'EACCES') return [fail(id, `${p.envFile} cannot be read by this user`, 'run the doctor as root: sudo tether doctor')];
  if (p.readError || !p.env) return [fail(id, `${p.envFile} cannot be read (${p.readError})`, 'check the file and its directory')];
  const owner = statSync(p.envFile).uid;
  // Judged only by root: the file is root's on a host, and the agent's tool commands run as the
  // service user, so a file that user owns is one the agent could read.
  if (process.getuid?.() === 0 && owner !== 0) return [fail(id, `${p.envFile} is owned by uid ${owner}, not root: the services' user could read its secrets`, `chown root:root ${p.envFile}`)];
  if (!ownerOnly(p.envFile)) {
    const mode = (statSync(p.envFile).mode & 0o777).toString(8);
    return [fail(id, `${p.envFile} is mode ${mode}: others may read its secrets`, `chmod 600 ${p.envFile}`)];
  }
  try {
    validate(p.env);
  } catch (err) {
    return [fail(id, `${p.envFile}: ${describeError(err)}`, `fix it in ${p.envFile}, then: systemctl restart ${p.unitName}`)];
  }
  return [ok(id, `${p.envFile} is owner-only and valid`)];
}

export function runtimeConfigOf(p: DeployedProcess): RuntimeConfig | undefined {
  if (!p.env) return undefined;
  try {
    return loadRuntimeConfig(p.env, p.env.TETHER_WORKSPACE ?? '/');
  } catch {
    return undefined;
  }
}

export function checkEnvFiles(d: Deployment): CheckResult[] {
  const results = checkEnvFile(d.runtime, (env) => loadRuntimeConfig(env, env.TETHER_WORKSPACE ?? '/'));
  for (const b of d.bridges) results.push(...checkEnvFile(b, BRIDGE_LOADERS[b.name]));
  if (d.bridges.length === 0) results.push(warn('bridges', 'no bridge is set up: nobody can talk to the agent from a phone', 'write a bundle with tether setup --bridge telegram (or feishu) and run its install.sh'));
  return results;
}

function checkOneStateDir(id: string, dir: string, unitName: string): CheckResult[] {
  if (!existsSync(dir)) return [fail(id, `${dir} does not exist`, `systemd makes it when ${unitName} starts (StateDirectory=): systemctl start ${unitName}`)];
  if (!statSync(dir).isDirectory()) return [fail(id, `${dir} is not a directory`, `move it away; systemd makes the directory when ${unitName} starts`)];
  return [ownerOnly(dir) ? ok(id, `${dir} is owner-only`) : fail(id, `${dir} is mode ${(statSync(dir).mode & 0o777).toString(8)}: others may read the databases`, `chmod 700 ${dir}`)];
}

/** The runtime's state dir and token, then each bridge's own state dir (where it is not the runtime's). */
export function checkStateDir(d: Deployment): CheckResult[] {
  const results = checkOneStateDir('state-dir', d.stateDir, d.runtime.unitName);
  const token = join(d.stateDir, TOKEN_FILE);
  if (existsSync(token)) results.push(ownerOnly(token) ? ok('token-file', `${token} is owner-only`) : fail('token-file', `${token} is mode ${(statSync(token).mode & 0o777).toString(8)}: others may read the runtime token`, `chmod 600 ${token}`));
  for (const b of d.bridges) if (b.stateDir !== d.stateDir) results.push(...checkOneStateDir(`state-dir:${b.name}`, b.stateDir, b.unitName));
  return results;
}

export function checkDisk(d: Deployment): CheckResult[] {
  if (!existsSync(d.stateDir)) return [];
  const s = statfsSync(d.stateDir);
  const free = s.bavail * s.bsize;
  const shown = `${(free / 1024 / 1024 / 1024).toFixed(1)} GiB free in ${d.stateDir}`;
  if (free < DISK_FAIL_BYTES) return [fail('disk', shown, 'free space on that file system: the runtime and bridges stop accepting messages when they cannot write')];
  if (free < DISK_WARN_BYTES) return [warn('disk', shown, 'free space on that file system soon')];
  return [ok('disk', shown)];
}

async function get(url: string, token: string | undefined, timeoutMs: number): Promise<{ status: number; body: string } | { error: string }> {
  try {
    const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    return { error: (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (cause ?? describeError(err)) };
  }
}

function runtimeUrlOf(d: Deployment): string {
  const host = d.runtime.env?.TETHER_HOST ?? '127.0.0.1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${d.runtime.env?.TETHER_PORT ?? '7878'}`;
}

function tokenFor(p: DeployedProcess): string | undefined {
  if (p.env?.TETHER_TOKEN) return p.env.TETHER_TOKEN;
  try {
    return readFileSync(join(p.stateDir, TOKEN_FILE), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** /health answers, and the runtime accepts the token of runtime.env and of each bridge (a mismatch leaves a bridge deaf). */
export async function checkRuntime(d: Deployment): Promise<CheckResult[]> {
  const url = runtimeUrlOf(d);
  const health = await get(`${url}/health`, undefined, d.options.timeoutMs);
  if ('error' in health || health.status !== 200) {
    return [fail('runtime:health', `the runtime does not answer at ${url}/health (${'error' in health ? health.error : `HTTP ${health.status}`})`, 'systemctl status tether-runtime; journalctl -u tether-runtime -n 50')];
  }
  const results = [ok('runtime:health', `the runtime answers at ${url}`)];
  for (const p of [d.runtime, ...d.bridges]) {
    const id = `${p.name}:auth`;
    const token = tokenFor(p);
    if (!token) {
      results.push(fail(id, `${p.name} has no runtime token: TETHER_TOKEN is not in ${p.envFile} and there is no ${join(p.stateDir, TOKEN_FILE)}`, 'put the same TETHER_TOKEN in runtime.env and every bridge env file (tether setup does)'));
      continue;
    }
    const r = await get(`${p.name === 'runtime' ? url : (p.env?.TETHER_RUNTIME_URL ?? 'http://127.0.0.1:7878')}/v1/threads?limit=1`, token, d.options.timeoutMs);
    if ('error' in r) results.push(fail(id, `${p.name} cannot reach the runtime at its TETHER_RUNTIME_URL (${r.error})`, `point TETHER_RUNTIME_URL in ${p.envFile} at the runtime (http://127.0.0.1:<TETHER_PORT>)`));
    else if (r.status === 401) results.push(fail(id, `the runtime refuses the token ${p.name} uses`, `put the same TETHER_TOKEN in runtime.env and ${p.envFile}, then restart both units`));
    else if (r.status !== 200) results.push(fail(id, `the runtime answered HTTP ${r.status} to ${p.name}`, 'journalctl -u tether-runtime -n 50'));
    else results.push(ok(id, `the runtime accepts ${p.name}'s token`));
  }
  return results;
}

/** GET /models with the key, through runtime/models/probe (no tokens spent), within the doctor's timeout. */
export async function checkProvider(d: Deployment): Promise<CheckResult[]> {
  const config = runtimeConfigOf(d.runtime);
  if (!config) return [];
  const probe = await probeProvider(config, { timeoutMs: d.options.timeoutMs });
  if (!probe.ok) {
    const e = probe.error;
    // A TetherError's message ends with its fix; the line shows them apart.
    const seen = e ? (e.fix && e.message.endsWith(`: ${e.fix}`) ? e.message.slice(0, -(e.fix.length + 2)) : e.message) : `${config.provider} cannot be used`;
    return [fail('provider', seen, `${e?.fix ?? 'check TETHER_PROVIDER, TETHER_BASE_URL and the key'} in ${d.runtime.envFile}, then: systemctl restart tether-runtime`)];
  }
  const listed = probe.modelListed === undefined ? 'lists no models' : `lists ${config.model}`;
  return [ok('provider', `${config.provider} answers with the key and ${listed} (${probe.latencyMs} ms)`)];
}

function processAlive(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat !== undefined && !isZombie(stat);
}

interface HealthFile {
  pid?: number;
  state?: string;
  runtime?: string;
  lastError?: string;
  stopReason?: string;
  outboxDepth?: number;
  sendFailing?: number;
  lastSendError?: string;
}

/** The bridge's own account: running, connected to the runtime, replies going out. */
export function checkBridgeHealth(d: Deployment): CheckResult[] {
  const results: CheckResult[] = [];
  for (const b of d.bridges) {
    const id = `${b.name}:health`;
    const file = join(b.stateDir, `${b.name}.health.json`);
    let h: HealthFile;
    try {
      h = JSON.parse(readFileSync(file, 'utf8')) as HealthFile;
    } catch {
      results.push(fail(id, `no ${file}: the bridge has not run`, `systemctl enable --now ${b.unitName}; journalctl -u ${b.unitName} -n 50`));
      continue;
    }
    // A bridge killed outright (kill -9, OOM) leaves "running" behind: its pid tells.
    const gone = h.pid !== undefined && hasProcStat() && !processAlive(h.pid);
    if (h.state === 'failed') results.push(fail(id, `the bridge stopped: ${h.stopReason ?? h.lastError ?? 'no reason recorded'}`, `fix the cause, then systemctl restart ${b.unitName}`));
    else if (h.state !== 'running' || gone) results.push(fail(id, `the bridge is not running (last state ${h.state ?? 'unknown'}${gone ? `, pid ${h.pid} gone` : ''})`, `systemctl start ${b.unitName}; journalctl -u ${b.unitName} -n 50`));
    else if (h.runtime !== 'connected') results.push(warn(id, `the bridge runs but is not connected to the runtime (${h.runtime})${h.lastError ? `: ${h.lastError}` : ''}`, 'it queues messages until the runtime answers; see the runtime checks'));
    else if (h.sendFailing) results.push(warn(id, `${h.outboxDepth ?? 0} replies are waiting: sends keep failing in ${h.sendFailing} conversation(s)${h.lastSendError ? ` (${h.lastSendError})` : ''}`, 'they are retried until sent; check the platform checks and the network'));
    else results.push(ok(id, `running, connected to the runtime, ${h.outboxDepth ?? 0} replies waiting`));
  }
  return results;
}

/** What systemctl says of a unit: `is-enabled` and `is-active`, as printed. */
export type UnitStates = (unit: string) => { enabled: string; active: string };

/** systemctl's answers where systemd runs (PID 1); undefined elsewhere (a container, a laptop without it). */
export function systemdUnitStates(): UnitStates | undefined {
  if (!existsSync('/run/systemd/system')) return undefined;
  const ask = (verb: string, unit: string) => spawnSync('systemctl', [verb, unit], { encoding: 'utf8' }).stdout?.trim() ?? '';
  return (unit) => ({ enabled: ask('is-enabled', unit), active: ask('is-active', unit) });
}

/** Present, enabled and active, where systemd runs; elsewhere the line says why nothing was checked. */
export function checkUnits(d: Deployment, states: UnitStates | undefined = systemdUnitStates()): CheckResult[] {
  const units = [d.runtime, ...d.bridges];
  const results: CheckResult[] = [];
  for (const p of units) if (!p.unit) results.push(fail(`unit:${p.name}`, `${join(d.options.unitsDir, p.unitName)} is not installed`, `install it from the bundle's units/ (install.sh does), then systemctl daemon-reload`));
  if (!states) return [...results, warn('units', 'systemd is not running here: whether the units are enabled and active was not checked')];
  for (const p of units.filter((u) => u.unit)) {
    const { enabled, active } = states(p.unitName);
    if (enabled !== 'enabled') results.push(fail(`unit:${p.name}`, `${p.unitName} is ${enabled || 'unknown'}, not enabled: it will not start at boot`, `systemctl enable --now ${p.unitName}`));
    else if (active !== 'active') results.push(fail(`unit:${p.name}`, `${p.unitName} is ${active || 'unknown'}`, `systemctl status ${p.unitName}; journalctl -u ${p.unitName} -n 50`));
    else results.push(ok(`unit:${p.name}`, `${p.unitName} is enabled and active`));
  }
  return results;
}

/**
 * Each bridge runs as a user of its own: the agent's shell tool runs as the runtime's user, and a
 * process can read /proc/<pid>/environ (the bot credentials) of every process of its own uid.
 */
export function checkBridgeUsers(d: Deployment): CheckResult[] {
  if (!d.runtime.unit) return [];
  const userOf = (p: DeployedProcess) => unitValues(p.unit!, 'Service', 'User')[0] ?? 'root';
  const runtimeUser = userOf(d.runtime);
  return d.bridges
    .filter((b) => b.unit)
    .map((b) =>
      userOf(b) === runtimeUser
        ? fail(`${b.name}:user`, `${b.unitName} runs as ${runtimeUser}, the runtime's user: the agent's shell tool can read its credentials from /proc`, `install the bundle's units and run its install.sh (user tether-${b.name}, state in /var/lib/tether-${b.name}); by hand, see docs/deploy.md`)
        : ok(`${b.name}:user`, `${b.unitName} runs as ${userOf(b)}, apart from the runtime's ${runtimeUser}`),
    );
}
