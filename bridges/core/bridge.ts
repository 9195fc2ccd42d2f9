// runBridge: composes lock, store, access, inbox, delivery and health around one platform's ChatAdapter.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BridgeConfig } from '../../lib/config.js';
import { describeError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import { createRuntimeClient, resolveRuntimeToken, type RuntimeClient } from '../../lib/runtime-client.js';
import { TOKEN_FILE, ensureStateDir } from '../../lib/token.js';
import type { ChatAdapter, ConversationRef } from './adapter.js';
import { conversationKey } from './adapter.js';
import type { Role } from './access.js';
import { chunkLimit, chunkText } from './chunker.js';
import { DEFAULT_TIMING, type BridgeContext, type BridgeTiming } from './context.js';
import { Delivery } from './delivery.js';
import { mintPairCode } from './enrolment.js';
import { HealthReporter, healthFile, type BridgeHealth } from './health.js';
import { Inbox } from './inbox.js';
import { StorageGuard } from './storage.js';
import { acquireBridgeLock, claimStore } from './lock.js';
import { BridgeStore, bridgeDbFile, type NewOutbound } from './store.js';
import { ThreadDirectory } from './threads.js';

export type { BridgeHealth } from './health.js';
export { COMMAND_MENU } from './commands.js';

export interface BridgeOptions {
  config: BridgeConfig;
  /** User and chat ids always allowed (owners); from <PLATFORM>_ALLOWLIST. */
  allowlist: string[];
  logger: Logger;
  /** Distinguishes bots of one platform (e.g. the Telegram bot id): names the lock file. */
  identity: string;
  /** Tests only: a runtime client to use instead of one built from config. */
  client?: RuntimeClient;
  /** Tests only: shorter timings, a fake clock for code expiry. */
  timing?: Partial<BridgeTiming>;
  clock?: () => number;
}

export interface RunningBridge {
  /**
   * Stops receiving, lets in-flight work settle, releases the lock. Safe to call twice. With a
   * reason the bridge stops as failed (health `failed` with that `stopReason`, `stopped` resolves to it).
   */
  stop(reason?: string): Promise<void>;
  health(): BridgeHealth;
  /** Resolves when the bridge has stopped, with the reason when it stopped itself (fatal failure). */
  readonly stopped: Promise<string | undefined>;
}

export async function runBridge(adapter: ChatAdapter, options: BridgeOptions): Promise<RunningBridge> {
  const { config } = options;
  const logger = options.logger;
  const platform = adapter.platform;
  ensureStateDir(config.stateDir);
  const lock = acquireBridgeLock(config.stateDir, platform, options.identity);
  let store: BridgeStore | undefined;
  let client: RuntimeClient | undefined;
  try {
    store = BridgeStore.open(config.stateDir, platform);
    claimStore(store, platform, options.identity, bridgeDbFile(config.stateDir, platform));
    client = options.client ?? createRuntimeClient({ url: config.runtimeUrl, token: resolveRuntimeToken(config) });
  } catch (err) {
    store?.close();
    lock.release();
    throw err;
  }
  const openStore = store;
  const runtime = client;
  const tokenFile = join(config.stateDir, TOKEN_FILE);
  if (!options.client && !config.token && !existsSync(tokenFile)) {
    // systemd starts units in any order: on a first boot the runtime may not have written it yet.
    logger.warn(`the runtime's token is not there yet (${tokenFile}); messages are received and kept, and sent once the runtime has started and written it (or set TETHER_TOKEN to the runtime's token)`, { tokenFile, runtime: config.runtimeUrl });
  }
  const abort = new AbortController();
  const health = new HealthReporter(healthFile(config.stateDir, platform), platform, logger);
  const timing = { ...DEFAULT_TIMING, ...options.timing };
  const storage = new StorageGuard(bridgeDbFile(config.stateDir, platform), health, logger, timing.storageRetryMaxMs);
  const allowlist = new Set(options.allowlist);
  const now = options.clock ?? Date.now;
  let resolveStopped!: (reason: string | undefined) => void;
  const stopped = new Promise<string | undefined>((r) => (resolveStopped = r));
  let stopping: Promise<void> | undefined;

  const ctx: BridgeContext = {
    adapter,
    identity: options.identity,
    store: openStore,
    client: runtime,
    config,
    allowlist,
    logger,
    timing,
    health,
    storage,
    now,
    signal: abort.signal,
    send(ref: ConversationRef, kind, body) {
      const rows: NewOutbound[] = kind === 'text' ? chunkText(body.text, chunkLimit(adapter.textLimit)).map((text) => ({ ref, kind, body: { ...body, text } })) : [{ ref, kind, body }];
      openStore.enqueue(rows, now(), conversationKey);
      // After the caller's transaction (if any) has committed: a sender must not start inside it.
      queueMicrotask(() => delivery.wake());
    },
    reply(ref, text) {
      ctx.send(ref, 'text', { text });
    },
    // TETHER_PAIRING=off means the allowlist alone decides: paired ids stay stored but are not admitted.
    roleOf(senderId: string): Role | undefined {
      if (allowlist.has(senderId)) return 'owner';
      return config.pairing ? openStore.allowedRole('user', senderId) : undefined;
    },
    chatAllowed(chatId: string): boolean {
      return allowlist.has(chatId) || (config.pairing && openStore.allowedRole('chat', chatId) !== undefined);
    },
    fail(reason: string) {
      logger.error('bridge stopping', { reason });
      health.update({ state: 'failed', stopReason: reason, lastError: reason });
      void stop(reason);
    },
  };

  const threads = new ThreadDirectory(ctx);
  const inbox = new Inbox(ctx, threads);
  const delivery = new Delivery(ctx, threads);

  async function stop(reason?: string): Promise<void> {
    if (stopping) return stopping;
    stopping = (async () => {
      if (!reason) health.update({ state: 'stopping' });
      try {
        await adapter.stop();
      } catch (err) {
        logger.warn('adapter did not stop cleanly', { error: err });
      }
      abort.abort();
      await delivery.stop();
      while (!inbox.idle) await new Promise((r) => setTimeout(r, 20));
      if (!options.client) await runtime.close().catch(() => {});
      clearInterval(pruner);
      clearInterval(refresher);
      health.update({ state: reason ? 'failed' : 'stopped', ...(reason ? { stopReason: reason } : {}), inboxDepth: openStore.inboxDepth(), outboxDepth: openStore.outboxDepth() });
      health.flush();
      openStore.close();
      lock.release();
      resolveStopped(reason);
    })();
    return stopping;
  }

  if (config.pairing && allowlist.size === 0 && openStore.listAllowed().length === 0) {
    const { code } = mintPairCode(openStore, now());
    // The one place a code is shown: whoever can read this log owns the host anyway.
    logger.warn(`nobody may talk to this ${platform} bot yet: send it /pair ${code} in a private chat within an hour (or run tether pair code ${platform} for a new code)`, { code });
  } else if (!config.pairing && allowlist.size === 0 && openStore.listAllowed().length === 0) {
    logger.warn(`TETHER_PAIRING is off and the allowlist is empty: nobody can talk to this ${platform} bot`);
  }

  // Background chores never throw out of their timer (that would end the process): they log and try again next time.
  const prune = () => {
    try {
      openStore.prune(now());
    } catch (err) {
      logger.warn('cannot prune old bridge rows; trying again in an hour', { error: err });
    }
  };
  prune();
  const pruner = setInterval(prune, 3600_000).unref();
  // Queue depths and the adapter's own state (last poll, conflicts) change without events.
  const refresher = setInterval(() => {
    if (stopping) return;
    try {
      health.update({ inboxDepth: openStore.inboxDepth(), outboxDepth: openStore.outboxDepth(), ...(adapter.health ? { adapter: adapter.health() } : {}) });
    } catch (err) {
      logger.warn('cannot read queue depths for health', { error: err });
    }
  }, 5_000).unref();

  health.update({ eventCursor: openStore.eventCursor(), inboxDepth: openStore.inboxDepth(), outboxDepth: openStore.outboxDepth() });
  delivery.start();
  try {
    await adapter.start({
      onMessage: (m) => inbox.onMessage(m),
      onAction: (a) => inbox.onAction(a),
      onConversationMoved: async (from, to) => {
        try {
          openStore.moveConversation(conversationKey(from), conversationKey(to), to, now());
        } catch (err) {
          // Not confirmed to the platform, which hands the move over again.
          storage.failed(err, 'moving a conversation');
          throw err;
        }
        logger.info('conversation moved', { from: conversationKey(from), to: conversationKey(to) });
        // Not awaited: the platform's update is confirmed now, the runtime may be away (healed on the next message).
        void threads.syncMoved(to);
        delivery.wake();
      },
    });
  } catch (err) {
    health.update({ lastError: describeError(err) });
    await stop(describeError(err));
    throw err;
  }
  health.update({ state: storage.degraded ? 'not_accepting' : 'running', ...(adapter.health ? { adapter: adapter.health() } : {}) });
  inbox.wake();
  logger.info(`${platform} bridge running`, { runtime: runtime.url, allowlisted: allowlist.size, paired: openStore.listAllowed().length, pairing: config.pairing });

  return {
    stop: (reason?: string) => stop(reason),
    health: () => (stopping ? health.get() : { ...health.get(), inboxDepth: openStore.inboxDepth(), outboxDepth: openStore.outboxDepth(), ...(adapter.health ? { adapter: adapter.health() } : {}) }),
    stopped,
  };
}
