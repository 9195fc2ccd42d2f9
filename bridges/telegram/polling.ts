// The supervised getUpdates loop: confirms an update only after the core has it on disk, and never gives up.
//
// Why not bot.start(): it stops for good on 409 and confirms offsets on its own schedule. This loop keeps
// the offset in its hands (at-least-once, the core dedupes), backs off on conflicts with jitter forever,
// heals an active webhook, honours retry_after, and a watchdog aborts a poll that outlived its timeout.
import { GrammyError, type Api } from './grammy.js';
import type { Update } from 'grammy/types';
import type { Logger } from '../../lib/log.js';
import { describeTelegramError, POLL_CONFLICT, TOKEN_REFUSED, WEBHOOK_ACTIVE } from './failures.js';

export interface Backoff {
  minMs: number;
  maxMs: number;
}

export interface PollerTiming {
  /** getUpdates long-poll timeout, seconds. */
  pollTimeoutS: number;
  /** A poll running this much longer than its timeout is aborted and restarted. */
  watchdogGraceMs: number;
  /** "terminated by other getUpdates": another instance polls with this token. */
  conflict: Backoff;
  /** Network drops, 5xx, a failing core. */
  error: Backoff;
}

export const DEFAULT_POLLER_TIMING: PollerTiming = {
  pollTimeoutS: 30,
  watchdogGraceMs: 30_000,
  conflict: { minMs: 5_000, maxMs: 60_000 },
  error: { minMs: 1_000, maxMs: 30_000 },
};

/** Exponential delay for the `attempt`-th consecutive failure (0-based), ±20 % jitter, capped. */
export function backoffDelayMs(attempt: number, b: Backoff, random: () => number = Math.random): number {
  const base = Math.min(b.maxMs, b.minMs * 2 ** Math.min(attempt, 30));
  return Math.min(b.maxMs, Math.round(base * (0.8 + 0.4 * random())));
}

export type PollState = 'starting' | 'polling' | 'conflict' | 'rate_limited' | 'reconnecting' | 'fatal' | 'stopped';

export interface PollHealth {
  state: PollState;
  since: string;
  lastPollAt?: string;
  conflicts: number;
  reconnects: number;
  lastError?: string;
  likelyCause?: string;
}

export interface PollerOptions {
  api: Api;
  logger: Logger;
  allowedUpdates: readonly string[];
  timing: PollerTiming;
  /** Resolves once the update is durable; a rejection leaves it unconfirmed, to be fetched again. */
  onUpdate(update: Update): Promise<void>;
  /** The token is refused: polling has stopped for good. */
  onFatal(reason: string): void;
}

export const CONFLICT_CAUSE =
  'another process polls Telegram with this bot token (a second tether telegram, an old deployment, a dev laptop); stop it, or revoke the token in @BotFather if you do not know it';

export class TelegramPoller {
  private running = false;
  private loop: Promise<void> | undefined;
  private inflight: AbortController | undefined;
  private pollStartedAt: number | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private offset: number | undefined;
  private readonly state: PollHealth = { state: 'starting', since: new Date().toISOString(), conflicts: 0, reconnects: 0 };

  constructor(private readonly o: PollerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    const t = this.o.timing;
    const checkEvery = Math.max(200, Math.min(5_000, t.watchdogGraceMs / 2));
    this.watchdog = setInterval(() => this.checkWatchdog(), checkEvery);
    this.watchdog.unref();
    this.loop = this.run();
  }

  /** Stops polling; resolves after the update being handed over (if any) is done. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.watchdog) clearInterval(this.watchdog);
    this.inflight?.abort();
    this.wake?.();
    await this.loop;
    // A refused token stays visible in health after the stop it caused.
    if (this.state.state !== 'fatal') this.setState('stopped');
  }

  /** The offset that confirms everything handed over so far (for a final confirming call). */
  confirmedOffset(): number | undefined {
    return this.offset;
  }

  health(): PollHealth {
    return { ...this.state };
  }

  private setState(state: PollState, extra: Partial<PollHealth> = {}): void {
    if (this.state.state !== state) {
      this.state.state = state;
      this.state.since = new Date().toISOString();
    }
    if (state === 'polling') {
      delete this.state.lastError;
      delete this.state.likelyCause;
    }
    Object.assign(this.state, extra);
  }

  private checkWatchdog(): void {
    const t = this.o.timing;
    if (this.pollStartedAt === undefined || !this.inflight) return;
    if (Date.now() - this.pollStartedAt > t.pollTimeoutS * 1000 + t.watchdogGraceMs) {
      this.o.logger.warn('getUpdates outlived its timeout; restarting the poll', { pollTimeoutS: t.pollTimeoutS });
      this.inflight.abort();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    const t = this.o.timing;
    let conflictStreak = 0;
    let errorStreak = 0;
    let firstPoll = true;
    while (this.running) {
      const controller = new AbortController();
      this.inflight = controller;
      this.pollStartedAt = Date.now();
      let updates: Update[];
      try {
        updates = await this.o.api.getUpdates(
          {
            ...(this.offset !== undefined ? { offset: this.offset } : {}),
            limit: 100,
            timeout: t.pollTimeoutS,
            // allowed_updates sticks on the server; sending it every time costs nothing and heals a changed setting.
            allowed_updates: [...this.o.allowedUpdates] as never,
          },
          controller.signal as Parameters<Api['getUpdates']>[1],
        );
      } catch (err) {
        this.pollStartedAt = undefined;
        this.inflight = undefined;
        if (!this.running) break;
        const delay = await this.onPollError(err, { conflictStreak, errorStreak });
        if (delay === 'fatal') break;
        if (delay.kind === 'conflict') conflictStreak++;
        else if (delay.kind === 'error') errorStreak++;
        if (delay.ms > 0) await this.sleep(delay.ms);
        continue;
      }
      this.pollStartedAt = undefined;
      this.inflight = undefined;
      if (conflictStreak > 0 || errorStreak > 0 || firstPoll) this.o.logger.info('polling Telegram', { after: { conflicts: conflictStreak, errors: errorStreak } });
      firstPoll = false;
      conflictStreak = 0;
      this.setState('polling', { lastPollAt: new Date().toISOString() });

      let failed = false;
      for (const update of updates) {
        try {
          await this.o.onUpdate(update);
        } catch (err) {
          // Not confirmed: the same update comes back with the next getUpdates.
          this.o.logger.error('could not hand an update to the bridge; it will be fetched again', { update_id: update.update_id, error: err });
          failed = true;
          break;
        }
        this.offset = update.update_id + 1;
      }
      if (failed) {
        this.setState('reconnecting', { lastError: 'bridge could not store an update' });
        await this.sleep(backoffDelayMs(errorStreak++, t.error));
      } else errorStreak = 0;
    }
    this.pollStartedAt = undefined;
    this.inflight = undefined;
  }

  private async onPollError(err: unknown, streaks: { conflictStreak: number; errorStreak: number }): Promise<'fatal' | { kind: 'conflict' | 'error' | 'none'; ms: number }> {
    const t = this.o.timing;
    const description = describeTelegramError(err, 'getUpdates');
    if (err instanceof GrammyError) {
      const text = err.description.toLowerCase();
      if (err.error_code === 401 || err.error_code === 404) {
        const reason =
          err.error_code === 401
            ? TOKEN_REFUSED
            : `Telegram answered 404 to getUpdates: TELEGRAM_BOT_TOKEN or TELEGRAM_API_ROOT is wrong`;
        this.setState('fatal', { lastError: description });
        this.o.logger.error('polling stopped for good', { reason });
        this.o.onFatal(reason);
        return 'fatal';
      }
      if (err.error_code === 409 && text.includes(WEBHOOK_ACTIVE)) {
        this.o.logger.warn('a webhook is set for this bot; deleting it to use long polling', { error: description });
        try {
          await this.o.api.deleteWebhook();
        } catch (deleteErr) {
          this.o.logger.warn('deleteWebhook failed', { error: describeTelegramError(deleteErr, 'deleteWebhook') });
          return { kind: 'error', ms: backoffDelayMs(streaks.errorStreak, t.error) };
        }
        // A webhook that keeps coming back means someone else sets it: slow down instead of fighting in a loop.
        return { kind: 'conflict', ms: streaks.conflictStreak > 0 ? backoffDelayMs(streaks.conflictStreak - 1, t.conflict) : 0 };
      }
      if (err.error_code === 409) {
        this.state.conflicts++;
        const likelyCause = text.includes(POLL_CONFLICT) ? CONFLICT_CAUSE : 'something set a webhook for this bot token while we were polling';
        this.setState('conflict', { lastError: description, likelyCause });
        const ms = backoffDelayMs(streaks.conflictStreak, t.conflict);
        this.o.logger.warn('Telegram says another getUpdates displaced ours', { error: description, likelyCause, retryInMs: ms, conflicts: this.state.conflicts });
        return { kind: 'conflict', ms };
      }
      const retryAfter = err.parameters?.retry_after;
      if (err.error_code === 429 || retryAfter !== undefined) {
        const ms = Math.max(1, retryAfter ?? 3) * 1000;
        this.setState('rate_limited', { lastError: description });
        this.o.logger.warn('Telegram asked to slow down polling', { retryAfterS: ms / 1000 });
        return { kind: 'none', ms };
      }
    }
    this.state.reconnects++;
    const ms = backoffDelayMs(streaks.errorStreak, t.error);
    this.setState('reconnecting', { lastError: description });
    this.o.logger.warn('getUpdates failed; reconnecting', { error: description, retryInMs: ms });
    return { kind: 'error', ms };
  }
}
