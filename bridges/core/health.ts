// The bridge's health: a small state object, written to $STATE_DIR/<platform>.health.json and logged on change.
import { closeSync, ftruncateSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../lib/log.js';
import type { PlatformName } from './adapter.js';

export interface BridgeHealth {
  platform: PlatformName;
  pid: number;
  /** `not_accepting`: running, but the state dir takes no writes (`storage` says why); inbound waits on the platform. */
  state: 'starting' | 'running' | 'not_accepting' | 'stopping' | 'stopped' | 'failed';
  runtime: 'connected' | 'disconnected' | 'unknown';
  startedAt: string;
  updatedAt: string;
  /** Inbound messages waiting for the runtime, outbound rows waiting for the platform. */
  inboxDepth: number;
  outboxDepth: number;
  eventCursor: number;
  lastError?: string;
  /** Why the state dir takes no writes (full, read-only…), naming the database file; absent when it does. */
  storage?: string;
  stopReason?: string;
  /** Conversations whose replies keep failing to send (network, 5xx); they are retried until sent. */
  sendFailing?: number;
  lastSendError?: string;
  /** Whatever the adapter reports (last poll, conflicts, connection). */
  adapter?: Record<string, unknown>;
}

export function healthFile(stateDir: string, platform: PlatformName): string {
  return join(stateDir, `${platform}.health.json`);
}

/** Fields whose change is worth a log line (depths and times change all the time). */
function significant(h: BridgeHealth): string {
  return JSON.stringify([h.state, h.runtime, h.lastError, h.storage, h.stopReason, Boolean(h.sendFailing), h.adapter?.state ?? h.adapter?.connection]);
}

export class HealthReporter {
  private current: BridgeHealth;
  private lastLogged = '';
  private pendingWrite: NodeJS.Timeout | undefined;
  private writeFailing = false;

  constructor(
    private readonly file: string,
    platform: PlatformName,
    private readonly logger: Logger,
  ) {
    const now = new Date().toISOString();
    this.current = { platform, pid: process.pid, state: 'starting', runtime: 'unknown', startedAt: now, updatedAt: now, inboxDepth: 0, outboxDepth: 0, eventCursor: 0 };
  }

  get(): BridgeHealth {
    return { ...this.current };
  }

  update(patch: Partial<BridgeHealth>): void {
    this.current = { ...this.current, ...patch, updatedAt: new Date().toISOString() };
    const sig = significant(this.current);
    if (sig !== this.lastLogged) {
      this.lastLogged = sig;
      const { state, runtime, lastError, stopReason } = this.current;
      this.logger.info('bridge health changed', { state, runtime, ...(lastError ? { lastError } : {}), ...(stopReason ? { stopReason } : {}) });
      this.flush();
      return;
    }
    // Depths and cursors change with every event: at most one write a second for those.
    this.pendingWrite ??= setTimeout(() => this.flush(), 1000).unref();
  }

  /** Writes now (also on stop, so the file ends with the final state). */
  flush(): void {
    clearTimeout(this.pendingWrite);
    this.pendingWrite = undefined;
    this.write();
  }

  private write(): void {
    const text = JSON.stringify(this.current, null, 2) + '\n';
    try {
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, text, { mode: 0o600 });
      renameSync(tmp, this.file);
      this.writeFailing = false;
    } catch (err) {
      try {
        // A full disk has no room for a new file, but the old one's blocks are still there: overwritten
        // in place (not atomic), health can still say the disk is full instead of a stale `running`.
        overwriteInPlace(this.file, text);
        this.writeFailing = false;
      } catch {
        // Once per outage: on a full disk every update would say it again.
        if (!this.writeFailing) this.logger.warn('cannot write the health file', { file: this.file, error: err });
        this.writeFailing = true;
      }
    }
  }
}

/** Writes `text` over the start of an existing file and cuts it there, without first freeing its blocks. */
function overwriteInPlace(file: string, text: string): void {
  const fd = openSync(file, 'r+');
  try {
    const bytes = Buffer.from(text);
    writeSync(fd, bytes, 0, bytes.length, 0);
    ftruncateSync(fd, bytes.length);
  } finally {
    closeSync(fd);
  }
}
