// `tether setup`: a wizard (or flags) that writes a deploy bundle — env files, units, install.sh, cloud-init, RUNBOOK — and, for Azure, a provisioning plan.
import { text } from 'node:stream/consumers';
import { BRIDGE_SLUGS } from '../lib/bridges.js';
import { readEnvironment } from '../lib/config.js';
import { TetherError } from '../lib/errors.js';
import { renderBundle } from '../deploy/bundle.js';
import { bundleExists, writeBundle } from '../deploy/bundle-writer.js';
import { checkAnswers } from '../deploy/check-answers.js';
import { parseEnvFile } from '../deploy/env-file.js';
import { packageRoot } from '../deploy/package-files.js';
import { provisionAzure } from '../deploy/azure-provision.js';
import { runProgram } from '../deploy/plan-runner.js';
import { gatherAnswers } from '../deploy/setup-answers.js';
import { parseSetupFlags, SetupUsageError } from '../deploy/setup-flags.js';
import { TARGET_NAMES, TARGETS } from '../deploy/targets.js';
import { terminalQuestions } from './terminal-questions.js';

const HELP = `Usage: tether setup [options]

Writes a deploy bundle: runtime.env and one <bridge>.env (0600; the runtime token in each, the
model key only in runtime.env, each bridge's credentials only in its own file), the systemd
units, install.sh (run it as root on the host), cloud-init.yaml where the target takes one,
RUNBOOK.md with the remaining steps, and app/ (this Tether, compiled). Asks for what is missing.

Options:
  --target T           ${TARGET_NAMES.join(' | ')}
  --bridge B           ${BRIDGE_SLUGS.join(' | ')}; repeat for several
  --provider P         a row of the provider table (docs/providers.md)
  --model M            the model (default: the provider's; or TETHER_MODEL)
  --out DIR            where to write the bundle
  --force              replace an existing bundle at --out without asking
  --non-interactive    never ask: fail naming every missing value, writing nothing
  --secrets-stdin      read NAME=value lines from stdin (with --non-interactive)
  --location L         azure: the region (default westeurope)
  --apply              azure: provision the VM from the printed plan (asks first)
  -y, --yes            with --apply: do not ask
  -h, --help

Secrets never come from arguments: set them in the environment (TELEGRAM_BOT_TOKEN,
FEISHU_APP_ID and FEISHU_APP_SECRET, the provider's key variable such as OPENAI_API_KEY), give
them with --secrets-stdin, or type them at the prompts (not echoed). Also taken from the
environment: TETHER_MODEL, TETHER_BASE_URL, TETHER_PORT, TETHER_APPROVAL, TELEGRAM_ALLOWLIST,
TELEGRAM_API_ROOT, FEISHU_ALLOWLIST, FEISHU_DOMAIN. See docs/deploy.md.
`;

export async function run(args: string[]): Promise<number> {
  const flags = parseSetupFlags(args);
  if (flags.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (flags.secretsStdin && !flags.nonInteractive) throw new SetupUsageError('--secrets-stdin needs --non-interactive (stdin cannot carry both the secrets and your answers)');
  if (flags.yes && !flags.apply) throw new SetupUsageError('--yes only answers the question --apply asks');
  const stdinValues = flags.secretsStdin ? parseEnvFile(await text(process.stdin)) : {};
  const ask = flags.nonInteractive ? undefined : terminalQuestions();
  try {
    const { answers, out } = await gatherAnswers({ flags, values: { ...readEnvironment(), ...stdinValues }, ask });
    if (flags.location && answers.target !== 'azure') throw new SetupUsageError('--location is for --target azure');
    if (flags.apply && !TARGETS[answers.target].provisions) throw new SetupUsageError(`--apply provisions ${TARGET_NAMES.filter((t) => TARGETS[t].provisions).join(', ')} only; for ${answers.target}, follow the bundle's RUNBOOK.md`);
    checkAnswers(answers, process.cwd());
    const files = renderBundle(answers, { nodeVersion: process.versions.node, writtenAt: new Date().toISOString() });
    if (bundleExists(out) && !flags.force) {
      if (!ask) throw new TetherError('bundle_exists', `${out} already exists; nothing written`, 'pass --force to replace it (with a new runtime token), or choose another --out');
      if (!(await ask.confirm(`${out} already exists. Replace it (the runtime token changes too)?`))) {
        process.stderr.write('tether setup: nothing written\n');
        return 1;
      }
    }
    writeBundle(out, files, packageRoot());
    process.stdout.write(`Wrote the ${answers.target} bundle to ${out}:\n${files.map((f) => `  ${f.path}`).join('\n')}\n  app/\nNext: ${out}/RUNBOOK.md\n`);
    if (!TARGETS[answers.target].provisions) return 0;
    return await provisionAzure({ out, answers, location: flags.location ?? 'westeurope', apply: flags.apply, yes: flags.yes, ask, run: runProgram, say: (t) => void process.stdout.write(`${t}\n`) });
  } finally {
    ask?.close();
  }
}
