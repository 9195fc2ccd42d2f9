// Subcommand arguments through node:util parseArgs (strict): an unknown option or a stray argument is refused in one line that names it.
import { parseArgs } from 'node:util';
import { TetherError } from '../lib/errors.js';

/** `-4200`, `-1001234567890`: a Telegram group's id, given to `tether pair revoke`. */
const NEGATIVE_NUMBER = /^-\d+$/;

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

export interface CommandArgs {
  /** Each declared option that was given: a string, or true for a boolean. */
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** --help or -h was given: print the help and do nothing else. */
  help: boolean;
}

/**
 * A value as an error line may show it: whole when short, else its start and length, since a person
 * who pasted a token in the wrong place should not see it printed back (or logged by a unit).
 */
export function shownArgument(value: string): string {
  const points = Array.from(value);
  return points.length <= 24 ? JSON.stringify(value) : `${JSON.stringify(points.slice(0, 8).join('') + '…')} (${points.length} characters)`;
}

/** node's own sentence up to its advice on `--` (which fits no Tether command), e.g. "unknown option '--bogus'". */
function problemOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const problem = message.split('. To specify a positional argument')[0]!;
  return problem.charAt(0).toLowerCase() + problem.slice(1);
}

/**
 * `args` of `tether <command>`: only `options` (plus --help/-h) and at most `maxPositionals`
 * arguments; anything else throws a TetherError naming it, with the way to the command's help.
 */
export function commandArgs(args: string[], command: string, options: OptionSpec = {}, maxPositionals = 0): CommandArgs {
  // A negative number is an id (a Telegram group is -100…), never an option: parseArgs would take
  // `-4200` for the short options -4, -2, …, so it passes through as a stand-in and comes back.
  const negatives = args.filter((a) => NEGATIVE_NUMBER.test(a));
  const standIn = (i: number) => `\uE000negative-${i}`;
  const masked = args.map((a) => (NEGATIVE_NUMBER.test(a) ? standIn(negatives.indexOf(a)) : a));
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: masked, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
  } catch (err) {
    throw new TetherError('bad_usage', problemOf(err), `run tether ${command} --help`);
  }
  const unmask = (v: string) => v.replace(/^\uE000negative-(\d+)$/, (_, i: string) => negatives[Number(i)]!);
  parsed.positionals = parsed.positionals.map(unmask);
  for (const [k, v] of Object.entries(parsed.values)) if (typeof v === 'string') (parsed.values as Record<string, unknown>)[k] = unmask(v);
  const { help, ...values } = parsed.values as Record<string, string | boolean | undefined>;
  const extra = parsed.positionals.slice(maxPositionals);
  if (help !== true && extra.length > 0) {
    const takes = maxPositionals === 0 ? 'takes no arguments' : `takes at most ${maxPositionals} argument${maxPositionals === 1 ? '' : 's'}`;
    throw new TetherError('bad_usage', `unexpected argument ${shownArgument(extra[0]!)}: tether ${command} ${takes}`, `run tether ${command} --help`);
  }
  return { values, positionals: parsed.positionals, help: help === true };
}

/** Prints help and returns true when --help was asked for. */
export function wantsHelp(parsed: CommandArgs, text: string): boolean {
  if (parsed.help) {
    process.stdout.write(text.trimEnd() + '\n');
    return true;
  }
  return false;
}
