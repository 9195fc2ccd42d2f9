// The Azure provisioning plan as data: resource group, Key Vault filled from files, a VM with cloud-init and a managed identity, SSH from the caller only; printed whole, run step by step.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BridgeSlug } from '../lib/bridges.js';

export interface PlanStep {
  /** What it does, for a person. */
  title: string;
  program: 'az' | 'curl' | 'ssh' | 'scp';
  /** `{{NAME}}` is replaced by what an earlier step captured. */
  args: readonly string[];
  /** The step's trimmed stdout becomes {{capture}} for the steps after it. */
  capture?: string;
}

export interface AzureNames {
  group: string;
  vault: string;
  vm: string;
  location: string;
  adminUser: string;
}

export interface AzurePlanInput {
  bundleDir: string;
  bridges: readonly BridgeSlug[];
  names: AzureNames;
  /** An SSH public key file to log in with; without one az makes a key pair in ~/.ssh. */
  sshPublicKey: string | undefined;
}

/** Names for a new deployment: a Key Vault's name is global, so a random suffix keeps it free. */
export function azureNames(suffix: string, location: string): AzureNames {
  return { group: `tether-${suffix}`, vault: `tether-kv-${suffix}`, vm: 'tether', location, adminUser: 'tether-admin' };
}

export function defaultSshPublicKey(home: string): string | undefined {
  return ['id_ed25519.pub', 'id_ecdsa.pub', 'id_rsa.pub'].map((f) => join(home, '.ssh', f)).find((f) => existsSync(f));
}

/** The Key Vault secret holding an env file: tether-runtime-env, tether-telegram-env, … (cloud-init reads the same names). */
export function vaultSecretName(envFile: string): string {
  return `tether-${envFile.replace(/\.env$/, '')}-env`;
}

export function azurePlan(input: AzurePlanInput): PlanStep[] {
  const { group, vault, vm, location, adminUser } = input.names;
  const envFiles = ['runtime.env', ...input.bridges.map((b) => `${b}.env`)];
  const login = `${adminUser}@{{VM_IP}}`;
  const ssh = ['-o', 'StrictHostKeyChecking=accept-new', '-o', 'BatchMode=yes'];
  return [
    { title: 'find your public address (the only one SSH will admit)', program: 'curl', args: ['-fsS', '--max-time', '10', 'https://api.ipify.org'], capture: 'CALLER_IP' },
    { title: `resource group ${group} in ${location}`, program: 'az', args: ['group', 'create', '--name', group, '--location', location, '--tags', 'app=tether', '--output', 'none'] },
    // Access policies, not RBAC: the creator may write secrets at once, and the VM gets read access below.
    { title: `Key Vault ${vault}`, program: 'az', args: ['keyvault', 'create', '--name', vault, '--resource-group', group, '--location', location, '--enable-rbac-authorization', 'false', '--output', 'none'] },
    ...envFiles.map(
      (f): PlanStep => ({ title: `${f} into the vault as ${vaultSecretName(f)} (read from the file, never from a command line)`, program: 'az', args: ['keyvault', 'secret', 'set', '--vault-name', vault, '--name', vaultSecretName(f), '--file', join(input.bundleDir, f), '--encoding', 'utf-8', '--output', 'none'] }),
    ),
    {
      title: `VM ${vm}: Debian 12, a managed identity, cloud-init.yaml as user data, no inbound rule yet`,
      program: 'az',
      args: [
        'vm', 'create', '--resource-group', group, '--name', vm, '--location', location,
        '--image', 'Debian:debian-12:12-gen2:latest', '--size', 'Standard_B1s',
        '--admin-username', adminUser, ...(input.sshPublicKey ? ['--ssh-key-values', input.sshPublicKey] : ['--generate-ssh-keys']),
        '--assign-identity', '--custom-data', join(input.bundleDir, 'cloud-init.yaml'),
        '--nsg-rule', 'NONE', '--public-ip-sku', 'Standard', '--tags', `tether-vault=${vault}`, '--output', 'none',
      ],
    },
    {
      title: 'SSH (22/TCP) from your address only; the runtime port is never exposed',
      program: 'az',
      args: ['network', 'nsg', 'rule', 'create', '--resource-group', group, '--nsg-name', `${vm}NSG`, '--name', 'ssh-from-caller', '--priority', '100', '--direction', 'Inbound', '--access', 'Allow', '--protocol', 'Tcp', '--source-address-prefixes', '{{CALLER_IP}}/32', '--destination-port-ranges', '22', '--output', 'none'],
    },
    { title: "the VM's identity", program: 'az', args: ['vm', 'identity', 'show', '--resource-group', group, '--name', vm, '--query', 'principalId', '--output', 'tsv'], capture: 'PRINCIPAL_ID' },
    { title: 'let the VM read the vault’s secrets, nothing else', program: 'az', args: ['keyvault', 'set-policy', '--name', vault, '--object-id', '{{PRINCIPAL_ID}}', '--secret-permissions', 'get', '--output', 'none'] },
    { title: "the VM's public address", program: 'az', args: ['vm', 'show', '--show-details', '--resource-group', group, '--name', vm, '--query', 'publicIps', '--output', 'tsv'], capture: 'VM_IP' },
    { title: 'wait for cloud-init (it fetches the env files from the vault)', program: 'ssh', args: [...ssh, login, 'sudo', 'cloud-init', 'status', '--wait'] },
    { title: 'a directory for the bundle on the VM', program: 'ssh', args: [...ssh, login, 'mkdir', '-p', 'tether-bundle'] },
    { title: 'copy the app, the units and install.sh (the env files stay in the vault)', program: 'scp', args: [...ssh, '-r', join(input.bundleDir, 'app'), join(input.bundleDir, 'units'), join(input.bundleDir, 'install.sh'), `${login}:tether-bundle/`] },
    { title: 'run install.sh: Node.js, the app, the units, the first pairing code', program: 'ssh', args: [...ssh, login, 'sudo', 'bash', 'tether-bundle/install.sh'] },
  ];
}

/** A failed step leaves what the steps before it made, all inside one resource group. */
export function whatAFailureLeaves(names: AzureNames, done: readonly PlanStep[]): string {
  const made = done.some((s) => s.program === 'az') ? `Everything made so far is in resource group ${names.group}; remove it all with: az group delete --name ${names.group}` : 'Nothing was made in Azure yet.';
  return `${made} Or fix the cause and run tether setup --target azure --apply again with a fresh --out.`;
}
