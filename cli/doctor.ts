// `tether doctor`: checks a deployment and prints one line per check with the fix for each failure; --json for scripts; exit 1 on any failure.
import { parseArgs } from 'node:util';
import { TetherError } from '../lib/errors.js';
import { formatReport, runDoctor } from '../deploy/doctor.js';

const HELP = `Usage: tether doctor [--json] [--env-dir DIR] [--units-dir DIR] [--state-dir DIR] [--timeout S]

Checks this host's Tether deployment and prints one line per check (ok / warn / FAIL) with the fix
for each failure: Node.js; the env files (readable, owner-only, valid as the processes validate
them); the state dirs (the runtime's, each bridge's own) and token file modes; free disk; the runtime's health and that it accepts
the token of every part; the model provider (key, reachability, model); Telegram (token, a
webhook blocking long polling, another poller, the clock); Feishu (the app's credentials, the bot,
the long-connection endpoint, another bridge on the app; its subscriptions cannot be seen from the
app, and its line says so); each bridge's health file; the units (installed, enabled, active, each
bridge under a user other than the runtime's). Never prints a secret. Exit 0 when nothing failed, 1 otherwise.

  --json            one JSON object: {"ok": bool, "checks": [{check, status, message, fix?}]}
  --env-dir DIR     the env files (default /etc/tether)
  --units-dir DIR   the installed units (default /etc/systemd/system)
  --state-dir DIR   the runtime's state dir; a bridge's is then DIR-<bridge> (default: the units'
                    TETHER_STATE_DIR, /var/lib/tether and /var/lib/tether-<bridge>)
  --timeout S       seconds each network check may take (default 10)

Run it as root (sudo tether doctor): the env files are root's. See docs/deploy.md.
`;

const OPTIONS = {
  json: { type: 'boolean' },
  'env-dir': { type: 'string' },
  'units-dir': { type: 'string' },
  'state-dir': { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function run(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new TetherError('bad_usage', (err as Error).message.split('.')[0] ?? 'bad arguments', 'run tether doctor --help');
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const timeoutS = Number(values.timeout ?? '10');
  if (!Number.isFinite(timeoutS) || timeoutS <= 0 || timeoutS > 300) throw new TetherError('bad_usage', `--timeout is ${JSON.stringify(values.timeout)}, expected seconds from 1 to 300`);
  const results = await runDoctor({
    envDir: values['env-dir'] ?? '/etc/tether',
    unitsDir: values['units-dir'] ?? '/etc/systemd/system',
    ...(values['state-dir'] ? { stateDir: values['state-dir'] } : {}),
    timeoutMs: timeoutS * 1000,
  });
  const failed = results.some((r) => r.status === 'fail');
  process.stdout.write(values.json ? JSON.stringify({ ok: !failed, checks: results }, null, 2) + '\n' : formatReport(results));
  return failed ? 1 : 0;
}
