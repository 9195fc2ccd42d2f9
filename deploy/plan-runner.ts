// Prints a provisioning plan whole and runs it step by step: captured values feed later steps, the first failure stops it and says what is left.
import { spawn } from 'node:child_process';
import { TetherError } from '../lib/errors.js';
import type { PlanStep } from './azure-plan.js';

export interface StepOutcome {
  code: number | null;
  stdout: string;
  /** The program could not be started (ENOENT: not installed). */
  spawnError?: string;
}

/** Runs one program: output to the terminal, or captured when the step captures. Never through a shell. */
export type StepRunner = (program: string, args: readonly string[], capture: boolean) => Promise<StepOutcome>;

export const runProgram: StepRunner = (program, args, capture) =>
  new Promise((resolve) => {
    const child = spawn(program, args, { stdio: ['inherit', capture ? 'pipe' : 'inherit', 'inherit'] });
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.on('error', (err: NodeJS.ErrnoException) => resolve({ code: null, stdout, spawnError: err.code ?? err.message }));
    child.on('close', (code) => resolve({ code, stdout }));
  });

export function fillArgs(step: PlanStep, captured: Readonly<Record<string, string>>): string[] {
  return step.args.map((a) =>
    a.replace(/\{\{([A-Z_]+)\}\}/g, (_w, name: string) => {
      const v = captured[name];
      if (v === undefined) throw new TetherError('plan_value_missing', `step "${step.title}" needs ${name}, which no earlier step captured`);
      return v;
    }),
  );
}

/** The plan for a person: numbered steps, each with its exact command; values found on the way show as <NAME>. */
export function describePlan(steps: readonly PlanStep[]): string {
  return steps
    .map((s, i) => `${String(i + 1).padStart(2)}. ${s.title}\n    ${[s.program, ...s.args.map((a) => a.replace(/\{\{([A-Z_]+)\}\}/g, '<$1>'))].join(' ')}${s.capture ? `\n    → <${s.capture}>` : ''}`)
    .join('\n');
}

export interface PlanResult {
  /** Steps that finished, in order. */
  done: PlanStep[];
  failed?: { step: PlanStep; index: number; reason: string };
}

export async function runPlan(steps: readonly PlanStep[], run: StepRunner, say: (line: string) => void): Promise<PlanResult> {
  const captured: Record<string, string> = {};
  const done: PlanStep[] = [];
  for (const [index, step] of steps.entries()) {
    say(`[${index + 1}/${steps.length}] ${step.title}`);
    const outcome = await run(step.program, fillArgs(step, captured), step.capture !== undefined);
    const value = outcome.stdout.trim();
    if (outcome.code !== 0 || (step.capture && !value)) {
      const reason = outcome.spawnError ? `${step.program} could not be started (${outcome.spawnError})` : outcome.code !== 0 ? `${step.program} exited with ${outcome.code}` : `${step.program} printed no ${step.capture}`;
      return { done, failed: { step, index, reason } };
    }
    if (step.capture) captured[step.capture] = value;
    done.push(step);
  }
  return { done };
}

/** Before anything runs: az installed and logged in, each with what to do when not. */
export async function checkAzReady(run: StepRunner): Promise<void> {
  const version = await run('az', ['version', '--output', 'none'], true);
  if (version.spawnError === 'ENOENT') throw new TetherError('az_missing', 'the Azure CLI (az) is not installed; nothing was provisioned', 'install it (https://learn.microsoft.com/cli/azure/install-azure-cli), run az login, then run this again');
  if (version.code !== 0) throw new TetherError('az_broken', `az version failed (${version.spawnError ?? `exit ${version.code}`}); nothing was provisioned`, 'check your Azure CLI installation');
  const account = await run('az', ['account', 'show', '--query', 'name', '--output', 'tsv'], true);
  if (account.code !== 0) throw new TetherError('az_logged_out', 'az is not logged in; nothing was provisioned', 'run az login (and az account set --subscription … if you have several), then run this again');
}
