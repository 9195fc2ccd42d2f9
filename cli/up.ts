// `tether up`: the runtime plus one child process per bridge that has credentials, logs prefixed, stopped together.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { BRIDGES, BRIDGE_SLUGS } from '../lib/bridges.js';
import { hasBridgeCredentials, loadRuntimeConfig, readEnvironment, type Env } from '../lib/config.js';
import { createLogger } from '../lib/log.js';
import { isTetherSecretVariable, secretCarrier } from '../lib/secret-variables.js';
import { startRuntime } from '../runtime/main.js';
import { commandArgs, wantsHelp } from './args.js';
import { waitForStopSignal } from './signals.js';

const HELP = `Usage: tether up

Runs the runtime and every chat bridge that has credentials, in the foreground, each bridge as its
own child process. Log lines are prefixed: [runtime] …, [telegram] …, [feishu] …. Ctrl-C or SIGTERM
stops all.

Bridges: telegram (TELEGRAM_BOT_TOKEN), feishu (FEISHU_APP_ID and FEISHU_APP_SECRET). Put
credentials in the environment or a .env file here.
`;

/** Every bridge talks to the runtime, so every bridge may have the runtime's token. */
const SHARED_BRIDGE_SECRETS = ['TETHER_TOKEN'];

/** A bridge that exits on its own is started again, waiting longer each time it fails quickly. */
const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 60_000;
const CHILD_STOP_MS = 10_000;

/**
 * The environment of a bridge child, pointed at this runtime: its own variables (every one of its
 * namespace, credentials and a proxy URL's password included) and the runtime token, no other
 * secret (no provider key, no other platform's token), and no variable whose value carries another
 * secret (a TETHER_BASE_URL with a password), so its /proc/<pid>/environ holds nothing it does not use.
 */
export function bridgeEnvironment(env: Env, bridge: { namespaces: readonly string[] }, runtimeUrl: string, stateDir: string): Env {
  const isOwn = (name: string) => bridge.namespaces.some((prefix) => name.toUpperCase().startsWith(prefix)) || SHARED_BRIDGE_SECRETS.includes(name);
  const carriesOtherSecret = secretCarrier(Object.fromEntries(Object.entries(env).filter(([name]) => !isOwn(name))));
  const kept = Object.entries(env).filter(([name, value]) => isOwn(name) || (!isTetherSecretVariable(name) && !carriesOtherSecret(value ?? '')));
  return { ...Object.fromEntries(kept), TETHER_RUNTIME_URL: runtimeUrl, TETHER_STATE_DIR: stateDir };
}

function prefixLines(stream: NodeJS.ReadableStream, prefix: string, out: NodeJS.WritableStream): void {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => out.write(`${prefix} ${line}\n`));
}

interface Supervised {
  platform: string;
  child: ChildProcess | undefined;
  timer: NodeJS.Timeout | undefined;
}

function superviseBridge(platform: string, command: string, env: Env, isStopping: () => boolean, say: (m: string, f?: Record<string, unknown>) => void): Supervised {
  const entry: Supervised = { platform, child: undefined, timer: undefined };
  let delay = RESTART_MIN_MS;
  const start = () => {
    const startedAt = Date.now();
    // The same node, loader flags and entry as this process, so source (tsx) and dist both work.
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1] ?? '', command], { env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    entry.child = child;
    prefixLines(child.stdout!, `[${platform}]`, process.stdout);
    prefixLines(child.stderr!, `[${platform}]`, process.stderr);
    child.on('exit', (code, signal) => {
      entry.child = undefined;
      if (isStopping()) return;
      delay = Date.now() - startedAt > RESTART_MAX_MS ? RESTART_MIN_MS : Math.min(delay * 2, RESTART_MAX_MS);
      say('bridge exited; starting it again', { bridge: platform, code, signal, restart_in_ms: delay });
      entry.timer = setTimeout(start, delay);
    });
  };
  start();
  return entry;
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), CHILD_STOP_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function run(args: string[]): Promise<number> {
  if (wantsHelp(commandArgs(args, 'up'), HELP)) return 0;
  const env = readEnvironment();
  const config = loadRuntimeConfig(env);
  const logger = createLogger('runtime', { level: config.logLevel, write: (line) => void process.stdout.write(`[runtime] ${line}\n`) });
  const runtime = await startRuntime({ config, logger });
  logger.info('runtime listening', { url: runtime.url, token_file: config.token ? undefined : `${runtime.stateDir}/runtime.token` });

  let stopping = false;
  const supervised: Supervised[] = [];
  // Every row of the bridges table (lib/bridges.ts) whose credentials are set; `tether <slug>` runs it.
  for (const slug of BRIDGE_SLUGS) {
    if (!hasBridgeCredentials(env, slug)) continue;
    const bridgeEnv = bridgeEnvironment(env, BRIDGES[slug], runtime.url, config.stateDir);
    supervised.push(superviseBridge(slug, slug, bridgeEnv, () => stopping, (m, f) => logger.warn(m, f)));
  }
  if (supervised.length === 0) {
    logger.info(`no chat bridge has credentials, so only the runtime runs: set ${BRIDGE_SLUGS.map((slug) => BRIDGES[slug].credentials.join(' and ')).join(' or ')} in .env (or the environment) and run tether up again`);
  } else logger.info('bridges started', { bridges: supervised.map((s) => s.platform) });

  await waitForStopSignal(logger);
  stopping = true;
  for (const s of supervised) clearTimeout(s.timer);
  // Bridges first: they stop posting turns before the runtime goes away.
  await Promise.all(supervised.map((s) => (s.child ? stopChild(s.child) : Promise.resolve())));
  await runtime.stop();
  return 0;
}
