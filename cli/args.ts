// A tiny argument parser for subcommands: --flag, --key value, --key=value, and positionals.
import { TetherError } from '../lib/errors.js';

export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | true>;
}

export function parseArgs(args: string[]): ParsedArgs {
  const positionals: string[] = [];
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
      else {
        const next = args[i + 1];
        if (next !== undefined && !next.startsWith('-')) {
          flags[a.slice(2)] = next;
          i++;
        } else flags[a.slice(2)] = true;
      }
    } else if (a === '-h') flags.help = true;
    else positionals.push(a);
  }
  return { positionals, flags };
}

/** Prints help and returns true when --help was asked for. */
export function wantsHelp(parsed: ParsedArgs, text: string): boolean {
  if (parsed.flags.help) {
    process.stdout.write(text.trimEnd() + '\n');
    return true;
  }
  return false;
}

/** parseArgs for a command that takes only the flags in `allowed` (and --help) and no positionals: anything else is one line of refusal. */
export function strictArgs(args: string[], command: string, allowed: readonly string[] = []): ParsedArgs {
  const parsed = parseArgs(args);
  const unknown = [...parsed.positionals.map((p) => JSON.stringify(p)), ...Object.keys(parsed.flags).filter((f) => f !== 'help' && !allowed.includes(f)).map((f) => `--${f}`)];
  if (unknown.length > 0) throw new TetherError('bad_usage', `unexpected ${unknown.join(', ')}`, `run tether ${command} --help`);
  return parsed;
}
