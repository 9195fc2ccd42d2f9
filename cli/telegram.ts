// `tether telegram`: the Telegram bridge alone — validates config, learns the bot id, runs the core around the adapter.
import { loadTelegramConfig, readEnvironment } from '../lib/config.js';
import { createLogger } from '../lib/log.js';
import { COMMAND_MENU, runBridge, type RunningBridge } from '../bridges/core/bridge.js';
import { createTelegramAdapter } from '../bridges/telegram/adapter.js';
import { commandArgs, wantsHelp } from './args.js';
import { onStopSignal } from './signals.js';

const HELP = `Usage: tether telegram

Runs the Telegram bridge: long-polls the Bot API (outbound only), lets allowlisted and paired
people talk to the runtime, and sends the replies back as plain text.

Environment (or .env in the working directory):
  TELEGRAM_BOT_TOKEN   the token @BotFather gave you (required)
  TELEGRAM_ALLOWLIST   comma-separated numeric user/chat ids always allowed (optional)
  TELEGRAM_API_ROOT    Bot API root (default https://api.telegram.org)
  TETHER_RUNTIME_URL   where the runtime listens (default http://127.0.0.1:7878)
  TETHER_TOKEN         runtime token (default: read from $TETHER_STATE_DIR/runtime.token)
  TETHER_PAIRING       on|off: whether /pair codes admit new people (default on)

Only one bridge may poll a bot token at a time. See docs/telegram.md for setup and troubleshooting.
`;

/** Telegram's menu wants lower-case names of at most 32 characters and short descriptions. */
function telegramMenu(): { command: string; description: string }[] {
  return COMMAND_MENU.filter((c) => /^[a-z0-9_]{1,32}$/.test(c.name)).map((c) => ({ command: c.name, description: [...c.description].slice(0, 256).join('') || c.name }));
}

export async function run(args: string[]): Promise<number> {
  if (wantsHelp(commandArgs(args, 'telegram'), HELP)) return 0;
  const config = loadTelegramConfig(readEnvironment());
  const logger = createLogger('telegram', { level: config.logLevel });

  // The adapter can report a refused token before runBridge has returned the handle.
  const started: { bridge?: RunningBridge } = {};
  let fatalReason: string | undefined;
  const adapter = createTelegramAdapter(config, logger, {
    commands: telegramMenu(),
    onFatal: (reason) => {
      fatalReason = reason;
      // With the reason: health ends "failed" with it, not "stopped" as after Ctrl-C.
      void started.bridge?.stop(reason);
    },
  });
  // Learns the bot id (the lock and dedupe keys use it) and refuses a bad token in one line.
  const me = await adapter.identify();
  const bridge = await runBridge(adapter, { config, allowlist: config.allowlist, logger, identity: String(me.id) });
  started.bridge = bridge;
  if (fatalReason) void bridge.stop(fatalReason);

  const stopListening = onStopSignal(logger, () => void bridge.stop());
  try {
    const reason = (await bridge.stopped) ?? fatalReason;
    if (reason) {
      process.stderr.write(`tether telegram: ${reason}\n`);
      return 1;
    }
    return 0;
  } finally {
    stopListening();
  }
}
