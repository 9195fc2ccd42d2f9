// Small waits shared by tests: a condition with no event to await, and a free loopback port.
import { createServer } from 'node:net';

/** Resolves once `check` holds, looking every 20 ms; rejects naming `what` after `timeoutMs`. */
export async function waitUntil(check: () => boolean | Promise<boolean>, what = 'a condition', timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A port that was free on 127.0.0.1 a moment ago (for a server a test starts later on purpose). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}
