// `tether doctor`'s run: the table of checks in order, each bridge's platform checks from its own row, and the report for people or scripts.
import type { BridgeSlug } from '../lib/bridges.js';
import { scrubRegisteredSecrets } from '../lib/log.js';
import { checkBridgeHealth, checkBridgeUsers, checkDisk, checkEnvFiles, checkNode, checkProvider, checkRuntime, checkStateDir, checkUnits } from './doctor-checks.js';
import { loadDeployment, type DeployedProcess, type Deployment, type DoctorOptions } from './doctor-deployment.js';
import type { CheckResult } from './doctor-result.js';
import { checkFeishu } from './doctor-feishu.js';
import { checkTelegram } from './doctor-telegram.js';

/** One row per bridge: what only that platform can tell (token or app credentials, webhook or long connection, another instance, subscriptions). */
const PLATFORM_CHECKS: Record<BridgeSlug, (d: Deployment, b: DeployedProcess) => Promise<CheckResult[]>> = {
  telegram: (d, b) => checkTelegram(d, b),
  feishu: (d, b) => checkFeishu(d, b),
};

async function checkPlatforms(d: Deployment): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const b of d.bridges) results.push(...(await PLATFORM_CHECKS[b.name](d, b)));
  return results;
}

/** In the order a person fixes things: the host, the files, the runtime, the model, the chat platforms, the bridges, the units and who they run as. */
const CHECKS: ReadonlyArray<(d: Deployment) => CheckResult[] | Promise<CheckResult[]>> = [
  () => checkNode(),
  checkEnvFiles,
  checkStateDir,
  checkDisk,
  checkRuntime,
  checkProvider,
  checkPlatforms,
  (d) => checkBridgeHealth(d),
  (d) => checkUnits(d),
  checkBridgeUsers,
];

export async function runDoctor(options: DoctorOptions): Promise<CheckResult[]> {
  const deployment = loadDeployment(options);
  const results: CheckResult[] = [];
  for (const check of CHECKS) results.push(...(await check(deployment)));
  // A last guard: every value of the env files was registered as a secret when they were read.
  return results.map((r) => ({ ...r, message: scrubRegisteredSecrets(r.message), ...(r.fix ? { fix: scrubRegisteredSecrets(r.fix) } : {}) }));
}

const LABEL = { ok: 'ok  ', warn: 'warn', fail: 'FAIL' } as const;

export function formatReport(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.check.length));
  const lines = results.map((r) => `${LABEL[r.status]}  ${r.check.padEnd(width)}  ${r.message}${r.fix && r.status !== 'ok' ? `\n      ${' '.repeat(width)}  fix: ${r.fix}` : ''}`);
  const count = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
  lines.push('', `${count('ok')} ok, ${count('warn')} warning(s), ${count('fail')} failure(s)`);
  return lines.join('\n') + '\n';
}
