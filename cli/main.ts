// The `tether` command: a table of subcommands, each a thin shell in its own file, loaded on demand.
import { describeError, TetherError } from '../lib/errors.js';
import { redact } from '../lib/log.js';

export interface Command {
  summary: string;
  usage: string;
  /** Runs the command; resolves to the exit code. Long-running commands resolve when stopped. */
  load: () => Promise<{ run(args: string[]): Promise<number> }>;
}

export const COMMANDS: Record<string, Command> = {
  up: { summary: 'run the runtime and every bridge that has credentials, in the foreground', usage: 'tether up', load: () => import('./up.js') },
  runtime: { summary: 'run the agent runtime alone (127.0.0.1:7878)', usage: 'tether runtime', load: () => import('./runtime.js') },
  telegram: { summary: 'run the Telegram bridge alone', usage: 'tether telegram', load: () => import('./telegram.js') },
  feishu: { summary: 'run the Feishu/Lark bridge alone', usage: 'tether feishu', load: () => import('./feishu.js') },
  chat: { summary: 'talk to the runtime from this terminal', usage: 'tether chat [--thread ID]', load: () => import('./chat.js') },
  pair: { summary: 'manage who may talk: mint codes, approve, list, revoke', usage: 'tether pair code|list|approve|revoke …', load: () => import('./pair.js') },
  setup: { summary: 'write a deploy bundle (env files, units, install.sh, runbook) for a VPS, Azure or Lighthouse', usage: 'tether setup [--target T --bridge B --provider P --out DIR] [--non-interactive]', load: () => import('./setup.js') },
  doctor: { summary: 'check a deployment and say what is wrong and how to fix it', usage: 'tether doctor [--json]', load: () => import('./doctor.js') },
};

export function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'tether — talk to your own agent from your phone',
    '',
    'Usage: tether <command> [options]   (tether <command> --help for details)',
    '',
    'Commands:',
    ...rows,
    '',
    'Configuration comes from the environment and a .env file in the working directory; see README.md.',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  // Here, not where the file runs itself: bin/tether.js calls main() too.
  if (!process.stdout.listeners('error').includes(endOnClosedOutput)) process.stdout.on('error', endOnClosedOutput);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(helpText() + '\n');
    return name === undefined ? 1 : 0;
  }
  if (name === '--version' || name === '-v') {
    const { VERSION } = await import('../lib/version.js');
    process.stdout.write(VERSION + '\n');
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`tether: unknown command ${JSON.stringify(name)}; run tether --help for the list\n`);
    return 2;
  }
  try {
    const mod = await command.load();
    return await mod.run(rest);
  } catch (err) {
    // One line, never a stack: the error already names the cause and the fix. Outside the logger, so
    // redacted here as the logger would (registered secrets, URL user names and passwords).
    process.stderr.write(`tether ${name}: ${redact(err instanceof TetherError ? err.message : describeError(err))}\n`);
    return 1;
  }
}

/**
 * Output piped into a reader that stops early (`tether pair code telegram | head -1`) is not a
 * crash: the command ends quietly. A command that watches its own output (tether chat) decides itself.
 */
export function endOnClosedOutput(err: NodeJS.ErrnoException): void {
  if (process.stdout.listenerCount('error') > 1) return;
  if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  process.stderr.write(`tether: cannot write to standard output (${err.code ?? err.message})\n`);
  process.exit(1);
}

// Run directly (node dist/cli/main.js, or tsx cli/main.ts in tests) as well as through bin/tether.js.
const invokedAs = process.argv[1] ?? '';
if (/[\\/]cli[\\/]main\.(js|ts)$/.test(invokedAs)) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
