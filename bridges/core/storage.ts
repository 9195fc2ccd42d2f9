// Whether the bridge's state dir takes writes: classifies SQLite's errors, and while it does not, health says the bridge is not accepting, and why.
import type { Logger } from '../../lib/log.js';
import { sleep } from './context.js';
import type { HealthReporter } from './health.js';

/** SQLite error codes (better-sqlite3's `code`) that mean the state dir, not the data, is the trouble: what it is and what to do. */
const STORAGE_FAILURES: ReadonlyArray<{ code: RegExp; problem: string; fix: string }> = [
  { code: /^SQLITE_FULL$/, problem: 'the disk of the state dir is full', fix: 'free space on it' },
  { code: /^SQLITE_READONLY/, problem: 'the state dir is read-only', fix: "make it and its files writable by the bridge's user (or remount the disk read-write)" },
  { code: /^SQLITE_IOERR/, problem: 'the state dir cannot be written (I/O error)', fix: 'check the disk (dmesg) and free space on it' },
  { code: /^SQLITE_CANTOPEN$/, problem: "the bridge's database files cannot be opened", fix: "check that the state dir exists and is writable by the bridge's user" },
  { code: /^SQLITE_(BUSY|LOCKED)/, problem: "the bridge's database is locked by another process", fix: 'look for a stuck `tether pair` or sqlite3 shell on it' },
];

/** Which storage failure `err` is, or undefined for anything else (a bug, a constraint). */
export function storageFailureOf(err: unknown): { problem: string; fix: string } | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? STORAGE_FAILURES.find((f) => f.code.test(code)) : undefined;
}

export class StorageGuard {
  private reason: string | undefined;

  constructor(
    /** The bridge's database, named in what health and the log say. */
    private readonly file: string,
    private readonly health: HealthReporter,
    private readonly logger: Logger,
    /** Longest pause between retries of a write that failed. */
    private readonly retryMaxMs: number,
  ) {}

  /** The state dir is refusing writes right now. */
  get degraded(): boolean {
    return this.reason !== undefined;
  }

  /**
   * Notes a failed write; true when `err` is the state dir's trouble. The bridge then stops
   * accepting (inbound is not confirmed, so the platform keeps it and hands it over again), says
   * so in health and once in the log, and every loop retries what failed until a write goes through.
   */
  failed(err: unknown, doing: string): boolean {
    const failure = storageFailureOf(err);
    if (!failure) return false;
    const code = String((err as { code: unknown }).code);
    const reason = `cannot write ${this.file}: ${failure.problem} (${code}); ${failure.fix}. Messages wait on the platform meanwhile and nothing stored is lost`;
    if (reason !== this.reason) {
      this.logger.error('the bridge is not accepting messages: its state dir takes no writes; retrying until it does', { doing, file: this.file, code, error: err });
      this.reason = reason;
      const { state } = this.health.get();
      this.health.update({ ...(state === 'running' ? { state: 'not_accepting' as const } : {}), storage: reason, lastError: reason });
    }
    return true;
  }

  /** A write went through: accepting again. */
  succeeded(): void {
    if (this.reason === undefined) return;
    const was = this.reason;
    this.reason = undefined;
    this.logger.info('the state dir takes writes again; the bridge is accepting messages', { file: this.file });
    const current = this.health.get();
    this.health.update({ ...(current.state === 'not_accepting' ? { state: 'running' as const } : {}), storage: undefined, ...(current.lastError === was ? { lastError: undefined } : {}) });
  }

  /** The wait before the `attempt`-th retry (0-based) of a failed write: doubling from 250 ms, capped. */
  pause(attempt: number, signal: AbortSignal): Promise<void> {
    return sleep(Math.min(this.retryMaxMs, 250 * 2 ** Math.min(attempt, 10)), signal);
  }
}
