// `tether feishu`: the Feishu/Lark bridge alone — validates config, learns the bot's open id, runs the core around the adapter.
import { loadFeishuConfig, readEnvironment } from '../lib/config.js';
import { createLogger } from '../lib/log.js';
import { runBridge } from '../bridges/core/bridge.js';
import { createFeishuAdapter } from '../bridges/feishu/adapter.js';
import { commandArgs, wantsHelp } from './args.js';
import { onStopSignal } from './signals.js';

const HELP = `Usage: tether feishu

Runs the Feishu/Lark bridge: receives over Feishu's long connection (outbound only, no open
port), lets allowlisted and paired people talk to the runtime, and sends the replies back as
plain text (approvals as cards with Approve/Deny buttons).

Environment (or .env in the working directory):
  FEISHU_APP_ID        the App ID of your self-built app: cli_ + 16 hex characters (required)
  FEISHU_APP_SECRET    its App Secret (required)
  FEISHU_DOMAIN        feishu (default), lark, or a base URL
  FEISHU_ALLOWLIST     comma-separated ou_… open ids and oc_… chat ids always allowed (optional)
  TETHER_RUNTIME_URL   where the runtime listens (default http://127.0.0.1:7878)
  TETHER_TOKEN         runtime token (default: read from $TETHER_STATE_DIR/runtime.token)
  TETHER_PAIRING       on|off: whether /pair codes admit new people (default on)

Run one bridge per app: Feishu hands each event to one connection of the app at random.
See docs/feishu.md for creating the app, pairing and troubleshooting by error code.
`;

export async function run(args: string[]): Promise<number> {
  if (wantsHelp(commandArgs(args, 'feishu'), HELP)) return 0;
  const config = loadFeishuConfig(readEnvironment());
  const logger = createLogger('feishu', { level: config.logLevel });
  const adapter = createFeishuAdapter(config, logger);
  // Refused credentials end here in one line; an unreachable Feishu is retried until it answers.
  await adapter.identify();
  // One bridge per app on this host: the lock is named by the app id.
  const bridge = await runBridge(adapter, { config, allowlist: config.allowlist, logger, identity: config.appId });
  const stopListening = onStopSignal(logger, () => void bridge.stop());
  try {
    const reason = await bridge.stopped;
    if (reason) {
      process.stderr.write(`tether feishu: ${reason}\n`);
      return 1;
    }
    return 0;
  } finally {
    stopListening();
  }
}
