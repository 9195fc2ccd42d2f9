// The flags of `tether setup`, parsed strictly: an unknown option or an extra argument is refused by name, and no value is ever echoed (it may be a secret).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TetherError } from '../lib/errors.js';

export interface SetupFlags {
  target?: string;
  bridges: string[];
  provider?: string;
  model?: string;
  out?: string;
  location?: string;
  nonInteractive: boolean;
  secretsStdin: boolean;
  force: boolean;
  apply: boolean;
  yes: boolean;
  help: boolean;
}

const OPTIONS = {
  target: { type: 'string' },
  bridge: { type: 'string', multiple: true },
  provider: { type: 'string' },
  model: { type: 'string' },
  out: { type: 'string' },
  location: { type: 'string' },
  'non-interactive': { type: 'boolean' },
  'secrets-stdin': { type: 'boolean' },
  force: { type: 'boolean' },
  apply: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export class SetupUsageError extends TetherError {
  constructor(problem: string) {
    super('bad_usage', problem, 'run tether setup --help; secrets come from the environment, --secrets-stdin or the prompts, never from arguments');
  }
}

/**
 * Names what strict parsing refused without showing a value: an option by its name (before any
 * `=`), a stray argument by its position, since someone may have pasted a token there.
 */
function refusal(args: readonly string[]): SetupUsageError {
  const { tokens } = parseArgs({ args: [...args], options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  for (const t of tokens) {
    if (t.kind === 'option' && !Object.hasOwn(OPTIONS, t.name)) return new SetupUsageError(`unknown option ${t.rawName.length > 40 ? `${t.rawName.slice(0, 12)}…` : t.rawName}`);
    if (t.kind === 'option') {
      const spec: { type: string } = OPTIONS[t.name as keyof typeof OPTIONS];
      if (spec.type === 'string' && t.value === undefined) return new SetupUsageError(`${t.rawName} needs a value`);
      if (spec.type === 'boolean' && t.inlineValue) return new SetupUsageError(`${t.rawName} takes no value`);
    }
    if (t.kind === 'positional') return new SetupUsageError(`unexpected argument #${t.index + 1} (not shown: it may be a secret); tether setup takes only options`);
  }
  return new SetupUsageError('cannot read the arguments');
}

export function parseSetupFlags(args: readonly string[]): SetupFlags {
  let values;
  try {
    ({ values } = parseArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch {
    throw refusal(args);
  }
  return {
    target: values.target,
    bridges: values.bridge ?? [],
    provider: values.provider,
    model: values.model,
    out: values.out,
    location: values.location,
    nonInteractive: values['non-interactive'] ?? false,
    secretsStdin: values['secrets-stdin'] ?? false,
    force: values.force ?? false,
    apply: values.apply ?? false,
    yes: values.yes ?? false,
    help: values.help ?? false,
  };
}
