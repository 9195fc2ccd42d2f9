// Stop signals for long-running commands: the first SIGINT/SIGTERM stops cleanly, a second one exits at once.
import type { Logger } from '../lib/log.js';

/** Calls `onStop` on the first SIGINT or SIGTERM; returns a function that stops listening. */
export function onStopSignal(logger: Logger, onStop: (signal: NodeJS.Signals) => void): () => void {
  let seen = 0;
  const handler = (signal: NodeJS.Signals) => {
    // A second Ctrl-C means "now": everything acknowledged is already on disk.
    if (++seen > 1) process.exit(130);
    logger.info('stopping', { signal });
    onStop(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Resolves on the first SIGINT or SIGTERM (a second one still exits at once). */
export function waitForStopSignal(logger: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    onStopSignal(logger, resolve);
  });
}
