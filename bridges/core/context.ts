// What the bridge's parts share while it runs: the adapter, the store, the runtime client and a few knobs.
import type { BridgeConfig } from '../../lib/config.js';
import type { Logger } from '../../lib/log.js';
import type { RuntimeClient } from '../../lib/runtime-client.js';
import type { ChatAdapter, ConversationRef } from './adapter.js';
import type { Role } from './access.js';
import type { HealthReporter } from './health.js';
import type { StorageGuard } from './storage.js';
import type { BridgeStore, OutboundBody, OutboundKind } from './store.js';

/** Timings, all overridable by tests; defaults are what people should get. */
export interface BridgeTiming {
  /** A message waiting this long for a down runtime earns one "queued" notice. */
  queuedNoticeMs: number;
  /** Longest pause between retries of a runtime call. */
  runtimeRetryMaxMs: number;
  typingIntervalMs: number;
  /** Typing stops after this long even if the turn's end never arrives (the runtime's turn timeout is 10 min by default). */
  typingMaxMs: number;
  /** At most one tool-progress line per conversation in this interval. */
  progressIntervalMs: number;
  /** How often the sender looks for rows written by another process (`tether pair approve`). */
  outboxPollMs: number;
  /** Longest backoff between retries of a transient send failure. */
  sendRetryMaxMs: number;
  /**
   * A button press not decided by then is answered "received" and its result said in chat later:
   * platforms drop an unanswered press after a few seconds (Telegram's callback queries, Slack's
   * and Feishu's 3 s), and the decision may wait for a slow runtime.
   */
  pressAnswerMs: number;
  /** Longest pause between retries of a write the state dir refused (full, read-only). */
  storageRetryMaxMs: number;
}

export const DEFAULT_TIMING: BridgeTiming = {
  queuedNoticeMs: 5_000,
  runtimeRetryMaxMs: 5_000,
  typingIntervalMs: 4_000,
  typingMaxMs: 15 * 60_000,
  progressIntervalMs: 5_000,
  outboxPollMs: 1_000,
  sendRetryMaxMs: 60_000,
  pressAnswerMs: 2_000,
  storageRetryMaxMs: 5_000,
};

export interface BridgeContext {
  adapter: ChatAdapter;
  /** This bridge among others of its platform (the Telegram bot id): thread metadata `bot`. */
  identity: string;
  store: BridgeStore;
  client: RuntimeClient;
  config: BridgeConfig;
  allowlist: ReadonlySet<string>;
  logger: Logger;
  timing: BridgeTiming;
  health: HealthReporter;
  /** Notes writes the state dir refused (full, read-only) and that it recovered; see StorageGuard. */
  storage: StorageGuard;
  now(): number;
  /** Aborted when the bridge stops. */
  signal: AbortSignal;
  /** Queues rows for sending (text is chunked to the adapter's limit) and wakes the sender. */
  send(ref: ConversationRef, kind: OutboundKind, body: OutboundBody): void;
  reply(ref: ConversationRef, text: string): void;
  /** The sender's role: allowlisted users are owners; paired ones have the role they were given. */
  roleOf(senderId: string): Role | undefined;
  chatAllowed(chatId: string): boolean;
  /** Stops the bridge for good (a fatal delivery failure). */
  fail(reason: string): void;
}

/** Waits `ms`, or less when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
