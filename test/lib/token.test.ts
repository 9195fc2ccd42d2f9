// The state dir and token file: created private, and a place that cannot take them fails with the one fix that helps.
import { mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureRuntimeToken, ensureStateDir, TOKEN_FILE } from '../../lib/token.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const root = () => {
  const d = mkdtempSync(join(tmpdir(), 'tether-token-'));
  dirs.push(d);
  return d;
};

describe('ensureStateDir', () => {
  it('creates missing levels with mode 0700', () => {
    const dir = join(root(), 'a', 'b');
    ensureStateDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    ensureStateDir(dir); // an existing one is fine
  });

  it.each([
    ['under a file', (r: string) => (writeFileSync(join(r, 'f'), ''), join(r, 'f', 'state')), /cannot create TETHER_STATE_DIR .*f\/state \(ENOTDIR\)/],
    ['under /proc, where a recursive mkdir never returns', () => '/proc/tether-nope/state', /cannot create TETHER_STATE_DIR \/proc\/tether-nope\/state \(/],
    ['that is a file', (r: string) => (writeFileSync(join(r, 'f'), ''), join(r, 'f')), /TETHER_STATE_DIR .*f is not a directory/],
  ])('refuses a state dir %s with one line', (_what, make, message) => {
    const dir = make(root());
    expect(() => ensureStateDir(dir)).toThrow(message);
  });
});

describe('ensureRuntimeToken', () => {
  it('generates a 0600 token once and reads it back', () => {
    const dir = root();
    const token = ensureRuntimeToken(dir, undefined);
    expect(statSync(join(dir, TOKEN_FILE)).mode & 0o777).toBe(0o600);
    expect(ensureRuntimeToken(dir, undefined)).toBe(token);
    expect(ensureRuntimeToken(dir, 'configured-token')).toBe('configured-token');
  });

  it('a token file that cannot be written names the state dir as the fix, not TETHER_TOKEN', () => {
    const dir = root();
    symlinkSync('/proc/tether-nope/token', join(dir, TOKEN_FILE));
    let message = '';
    try {
      ensureRuntimeToken(dir, undefined);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/cannot write .*runtime\.token \(ENOENT\)/);
    expect(message).toMatch(/make TETHER_STATE_DIR writable by this user$/);
    expect(message).not.toContain('TETHER_TOKEN');
  });
});
