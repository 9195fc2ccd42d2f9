// `tether runtime`: the agent runtime alone, in the foreground, until SIGTERM or Ctrl-C.
import { join } from 'node:path';
import { loadRuntimeConfig, readEnvironment } from '../lib/config.js';
import { createLogger } from '../lib/log.js';
import { TOKEN_FILE } from '../lib/token.js';
import { startRuntime } from '../runtime/main.js';
import { commandArgs, wantsHelp } from './args.js';
import { waitForStopSignal } from './signals.js';

const HELP = `Usage: tether runtime

Runs the agent runtime on TETHER_HOST:TETHER_PORT (127.0.0.1:7878) until SIGTERM or Ctrl-C.
State (runtime.db, runtime.token) lives in TETHER_STATE_DIR. When TETHER_TOKEN is unset the
bearer token is generated into $TETHER_STATE_DIR/runtime.token (mode 0600).

Main settings: TETHER_PROVIDER, TETHER_MODEL, TETHER_BASE_URL, TETHER_API_KEY, TETHER_WORKSPACE,
TETHER_WORKERS, TETHER_TURN_TIMEOUT_S, TETHER_APPROVAL (ask|auto|readonly). See docs/runtime.md.
`;

/** Resolves when a stop signal arrived, after the runtime stopped cleanly. */
export async function run(args: string[]): Promise<number> {
  if (wantsHelp(commandArgs(args, 'runtime'), HELP)) return 0;
  const config = loadRuntimeConfig(readEnvironment());
  const logger = createLogger('runtime', { level: config.logLevel });
  const runtime = await startRuntime({ config, logger });
  logger.info('runtime listening', {
    url: runtime.url,
    token_file: config.token ? undefined : join(runtime.stateDir, TOKEN_FILE),
    token_from: config.token ? 'TETHER_TOKEN' : 'token_file',
    provider: config.provider,
    model: config.model,
    workspace: config.workspace,
    approval: config.approval,
    workers: config.workers,
  });
  await waitForStopSignal(logger);
  await runtime.stop();
  return 0;
}
