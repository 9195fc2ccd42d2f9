// `tether setup --target azure`: prints the plan for the bundle just written and, with --apply and a yes, runs it; a failure says what exists and how to remove it.
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { TetherError } from '../lib/errors.js';
import { azureNames, azurePlan, defaultSshPublicKey, whatAFailureLeaves } from './azure-plan.js';
import type { SetupAnswers } from './bundle.js';
import { checkAzReady, describePlan, runPlan, type StepRunner } from './plan-runner.js';
import type { Questions } from './setup-answers.js';

export interface ProvisionRequest {
  out: string;
  answers: SetupAnswers;
  location: string;
  apply: boolean;
  yes: boolean;
  ask: Questions | undefined;
  run: StepRunner;
  say: (text: string) => void;
}

/** Resolves to the exit code. */
export async function provisionAzure(r: ProvisionRequest): Promise<number> {
  const names = azureNames(randomBytes(3).toString('hex'), r.location);
  const steps = azurePlan({ bundleDir: resolve(r.out), bridges: r.answers.bridges, names, sshPublicKey: defaultSshPublicKey(homedir()) });
  r.say(`\nAzure provisioning plan (${steps.length} steps; no secret is on any command line):\n${describePlan(steps)}\n`);
  if (!r.apply) {
    r.say('Nothing was provisioned. To run this plan: the same command with --apply (it asks first; --yes does not).');
    return 0;
  }
  await checkAzReady(r.run);
  const go = r.yes || (r.ask ? await r.ask.confirm(`Run these ${steps.length} steps in your Azure subscription?`) : false);
  if (!go) {
    if (!r.ask) throw new TetherError('apply_unconfirmed', '--apply under --non-interactive needs --yes; nothing was provisioned', 'read the plan above, then add --yes');
    r.say('Nothing was provisioned.');
    return 1;
  }
  const result = await runPlan(steps, r.run, r.say);
  if (result.failed) {
    r.say(`\nStep ${result.failed.index + 1} (${result.failed.step.title}) failed: ${result.failed.reason}.\n${whatAFailureLeaves(names, result.done)}`);
    return 1;
  }
  r.say(`\nDone: resource group ${names.group}. Send the pairing code printed above to your bot; RUNBOOK.md has the rest.`);
  return 0;
}
