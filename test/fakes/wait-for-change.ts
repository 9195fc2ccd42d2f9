// What every fake platform's waitFor does: re-check a predicate after each change the fake announces, and on a short tick.

/**
 * Resolves with the predicate's value once it is neither undefined, false nor null; re-checked
 * whenever the fake calls its `listeners`, and every 20 ms (predicates may look at the code under
 * test, which the fake cannot see change). Rejects after `timeoutMs`, naming `fake` and `what`.
 */
export function waitForChange<T>(listeners: Set<() => void>, predicate: () => T | undefined | false | null, timeoutMs: number, what: string, fake: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const check = () => {
      let value: T | undefined | false | null;
      try {
        value = predicate();
      } catch (err) {
        cleanup();
        reject(err as Error);
        return;
      }
      if (value !== undefined && value !== false && value !== null) {
        cleanup();
        resolve(value);
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${fake}: timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const tick = setInterval(check, 20);
    const cleanup = () => {
      clearTimeout(timer);
      clearInterval(tick);
      listeners.delete(check);
    };
    listeners.add(check);
    check();
  });
}
