// The Azure plan as data (programs, arguments, order, no secret in argv, no port but SSH), its runner, and `tether setup --target azure` never provisioning without --apply and a yes. az itself never runs here.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { azureNames, azurePlan, type PlanStep } from '../../deploy/azure-plan.js';
import { parseEnvFile } from '../../deploy/env-file.js';
import { checkAzReady, fillArgs, runPlan, type StepOutcome } from '../../deploy/plan-runner.js';
import { runCli } from '../support/cli.js';

const BOT_TOKEN = '123456789:AAfakeTokenForTestsOnly_abcdefghijklmnop';
const OPENAI_KEY = 'sk-test-azure-0123456789abcdefghijklm';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tether-azure-'));
  dirs.push(d);
  return d;
}

const names = azureNames('abc123', 'northeurope');
const plan = azurePlan({ bundleDir: '/b', bridges: ['telegram', 'feishu'], names, sshPublicKey: '/home/me/.ssh/id_ed25519.pub' });
const commandOf = (s: PlanStep) => [s.program, ...s.args].join(' ');

describe('the Azure plan', () => {
  it('makes, in order: group, vault, secrets from files, VM with cloud-init and identity, SSH rule, vault access, then installs over SSH', () => {
    expect(plan.map((s) => [s.program, ...s.args.slice(0, s.program === 'az' ? 3 : 0)].join(' '))).toEqual([
      'curl',
      'az group create --name',
      'az keyvault create --name',
      'az keyvault secret set',
      'az keyvault secret set',
      'az keyvault secret set',
      'az vm create --resource-group',
      'az network nsg rule',
      'az vm identity show',
      'az keyvault set-policy --name',
      'az vm show --show-details',
      'ssh',
      'ssh',
      'scp',
      'ssh',
    ]);
    expect(plan.filter((s) => s.args.includes('secret')).map((s) => s.args[s.args.indexOf('--file') + 1])).toEqual(['/b/runtime.env', '/b/telegram.env', '/b/feishu.env']);
    const vm = commandOf(plan.find((s) => s.args[1] === 'create' && s.args[0] === 'vm')!);
    expect(vm).toContain('--assign-identity --custom-data /b/cloud-init.yaml --nsg-rule NONE');
    expect(vm).toContain('--ssh-key-values /home/me/.ssh/id_ed25519.pub');
    expect(vm).toContain('--tags tether-vault=tether-kv-abc123');
    expect(commandOf(plan.find((s) => s.args[1] === 'set-policy')!)).toBe('az keyvault set-policy --name tether-kv-abc123 --object-id {{PRINCIPAL_ID}} --secret-permissions get --output none');
  });

  it('admits SSH from the caller only and never exposes the runtime port', () => {
    const rules = plan.filter((s) => s.args.includes('nsg'));
    expect(rules).toHaveLength(1);
    expect(commandOf(rules[0]!)).toContain('--access Allow --protocol Tcp --source-address-prefixes {{CALLER_IP}}/32 --destination-port-ranges 22 ');
    for (const s of plan) expect(commandOf(s)).not.toMatch(/7878|--nsg-rule SSH|open-port/);
  });

  it('env files travel to the VM only through the vault: the copy step leaves them out', () => {
    const copy = plan.find((s) => s.program === 'scp')!;
    expect(copy.args.filter((a) => a.startsWith('/b/'))).toEqual(['/b/app', '/b/units', '/b/install.sh']);
  });

  it('every captured value is made before it is used', () => {
    const made = new Set<string>();
    for (const s of plan) {
      for (const a of s.args) for (const m of a.matchAll(/\{\{([A-Z_]+)\}\}/g)) expect(made.has(m[1]!), `${s.title} uses ${m[1]}`).toBe(true);
      if (s.capture) made.add(s.capture);
    }
  });
});

describe('running a plan', () => {
  const steps: PlanStep[] = [
    { title: 'a', program: 'az', args: ['one'], capture: 'X' },
    { title: 'b', program: 'az', args: ['two', '{{X}}'] },
    { title: 'c', program: 'az', args: ['three'] },
  ];

  it('feeds captured values into later steps and stops at the first failure, saying which', async () => {
    const calls: string[][] = [];
    const result = await runPlan(steps, async (program, args) => {
      calls.push([program, ...args]);
      return args[0] === 'two' ? { code: 2, stdout: '' } : { code: 0, stdout: ' value-x \n' };
    }, () => {});
    expect(calls).toEqual([['az', 'one'], ['az', 'two', 'value-x']]);
    expect(result.done.map((s) => s.title)).toEqual(['a']);
    expect(result.failed).toMatchObject({ index: 1, reason: 'az exited with 2' });
  });

  it('a capture that prints nothing is a failure, not an empty value passed on', async () => {
    const result = await runPlan(steps, async () => ({ code: 0, stdout: '\n' }), () => {});
    expect(result.failed).toMatchObject({ index: 0, reason: 'az printed no X' });
  });

  it('refuses a step whose value was never captured', () => {
    expect(() => fillArgs({ title: 't', program: 'az', args: ['{{NOPE}}'] }, {})).toThrow('step "t" needs NOPE');
  });

  it('says what to do when az is missing or not logged in, before any step', async () => {
    const missing = async (): Promise<StepOutcome> => ({ code: null, stdout: '', spawnError: 'ENOENT' });
    await expect(checkAzReady(missing)).rejects.toThrow(/^the Azure CLI \(az\) is not installed; nothing was provisioned: install it/);
    const loggedOut = async (_p: string, args: readonly string[]): Promise<StepOutcome> => ({ code: args[0] === 'account' ? 1 : 0, stdout: '' });
    await expect(checkAzReady(loggedOut)).rejects.toThrow(/^az is not logged in; nothing was provisioned: run az login/);
  });
});

describe('tether setup --target azure', () => {
  /** A PATH holding node and an `az` that records every call to a file (and says it is logged in). */
  function recordingAz(root: string): { path: string; calls: () => string[] } {
    const bin = join(root, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const log = join(root, 'az-calls');
    writeFileSync(join(bin, 'az'), `#!/bin/sh\necho "$*" >> '${log}'\n`);
    chmodSync(join(bin, 'az'), 0o755);
    return { path: bin, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
  }
  const args = (out: string) => ['setup', '--non-interactive', '--target', 'azure', '--bridge', 'telegram', '--provider', 'openai', '--out', out];

  it('without --apply prints the whole plan without secrets and provisions nothing', async () => {
    const root = tempDir();
    const az = recordingAz(root);
    const r = await runCli(args(join(root, 'b')), { env: { PATH: az.path, TELEGRAM_BOT_TOKEN: BOT_TOKEN, OPENAI_API_KEY: OPENAI_KEY }, cwd: root });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Azure provisioning plan (14 steps; no secret is on any command line)');
    expect(r.stdout).toContain(`az keyvault secret set --vault-name tether-kv-`);
    expect(r.stdout).toContain('Nothing was provisioned.');
    const token = parseEnvFile(readFileSync(join(root, 'b', 'runtime.env'), 'utf8')).TETHER_TOKEN!;
    for (const s of [BOT_TOKEN, OPENAI_KEY, token]) expect(r.stdout).not.toContain(s);
    expect(existsSync(join(root, 'b', 'cloud-init.yaml'))).toBe(true);
    expect(az.calls()).toEqual([]);
  });

  it('--apply without az says how to get it and provisions nothing', async () => {
    const root = tempDir();
    const r = await runCli([...args(join(root, 'b')), '--apply', '--yes'], { env: { PATH: dirname(process.execPath) === '/usr/bin' ? join(root, 'empty') : dirname(process.execPath), TELEGRAM_BOT_TOKEN: BOT_TOKEN, OPENAI_API_KEY: OPENAI_KEY }, cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^tether setup: the Azure CLI \(az\) is not installed; nothing was provisioned/);
  });

  it('--apply under --non-interactive needs --yes: az is only asked whether it is ready', async () => {
    const root = tempDir();
    const az = recordingAz(root);
    const r = await runCli([...args(join(root, 'b')), '--apply'], { env: { PATH: az.path, TELEGRAM_BOT_TOKEN: BOT_TOKEN, OPENAI_API_KEY: OPENAI_KEY }, cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/--apply under --non-interactive needs --yes; nothing was provisioned/);
    expect(az.calls()).toEqual(['version --output none', 'account show --query name --output tsv']);
  });

  it('--apply is refused for targets without a plan, before anything is written', async () => {
    const root = tempDir();
    const r = await runCli(['setup', '--non-interactive', '--target', 'vps', '--bridge', 'telegram', '--provider', 'openai', '--out', join(root, 'b'), '--apply'], { env: { TELEGRAM_BOT_TOKEN: BOT_TOKEN, OPENAI_API_KEY: OPENAI_KEY }, cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--apply provisions azure only; for vps, follow the bundle's RUNBOOK.md/);
    expect(existsSync(join(root, 'b'))).toBe(false);
  });
});
