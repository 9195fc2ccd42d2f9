// The runtime's bearer token: generated once into the state dir (0600) when TETHER_TOKEN is unset.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateError } from './errors.js';
import { registerSecret } from './log.js';

export const TOKEN_FILE = 'runtime.token';

/** Creates the state dir with mode 0700 if missing; refuses one that cannot be written. */
export function ensureStateDir(stateDir: string): void {
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new StateError('state_unwritable', `cannot create TETHER_STATE_DIR ${stateDir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'create it with write access for this user, or set TETHER_STATE_DIR to a writable directory');
  }
}

/** Returns TETHER_TOKEN, or the token file's content, creating the file on first start. */
export function ensureRuntimeToken(stateDir: string, configured: string | undefined): string {
  if (configured) return configured;
  const file = join(stateDir, TOKEN_FILE);
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= 16) {
      chmodSync(file, 0o600);
      registerSecret(token);
      return token;
    }
  }
  const token = randomBytes(32).toString('base64url');
  try {
    writeFileSync(file, token + '\n', { mode: 0o600 });
  } catch (err) {
    throw new StateError('state_unwritable', `cannot write ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'make TETHER_STATE_DIR writable by this user, or set TETHER_TOKEN');
  }
  registerSecret(token);
  return token;
}

/** For clients on the same host: TETHER_TOKEN, else the runtime's token file. */
export function readRuntimeToken(stateDir: string, configured: string | undefined): string {
  if (configured) return configured;
  const file = join(stateDir, TOKEN_FILE);
  try {
    const token = readFileSync(file, 'utf8').trim();
    registerSecret(token);
    return token;
  } catch {
    throw new StateError('no_token', `no runtime token: TETHER_TOKEN is unset and ${file} does not exist`, 'start the runtime once (tether runtime), or set TETHER_TOKEN to the same value as the runtime');
  }
}
