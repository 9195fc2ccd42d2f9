// The runtime's bearer token: generated once into the state dir (0600) when TETHER_TOKEN is unset.
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { StateError } from './errors.js';
import { registerSecret } from './log.js';

export const TOKEN_FILE = 'runtime.token';

const STATE_DIR_FIX = 'create it with write access for this user, or set TETHER_STATE_DIR to a writable directory';

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/**
 * Creates the state dir with mode 0700 if missing; refuses one that cannot be written. Levels are
 * made one by one below the nearest existing ancestor, which must be a writable directory: Node's
 * recursive mkdir never returns under /proc (it retries forever), so it is not used.
 */
export function ensureStateDir(stateDir: string): void {
  const target = resolve(stateDir);
  const missing: string[] = [];
  let existing = target;
  for (;;) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(existing).isDirectory();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new StateError('state_unwritable', `cannot create TETHER_STATE_DIR ${stateDir} (${errorCode(err)})`, STATE_DIR_FIX);
      const parent = dirname(existing);
      if (parent === existing) break;
      missing.unshift(existing);
      existing = parent;
      continue;
    }
    if (!isDirectory) {
      if (existing === target) throw new StateError('state_unwritable', `TETHER_STATE_DIR ${stateDir} is not a directory`, 'point TETHER_STATE_DIR at a directory (or a path that does not exist yet)');
      throw new StateError('state_unwritable', `cannot create TETHER_STATE_DIR ${stateDir} (ENOTDIR)`, STATE_DIR_FIX);
    }
    break;
  }
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (err) {
    if (missing.length === 0) throw new StateError('state_unwritable', `TETHER_STATE_DIR ${stateDir} is not writable by this user (${errorCode(err)})`, 'make TETHER_STATE_DIR writable by this user');
    throw new StateError('state_unwritable', `cannot create TETHER_STATE_DIR ${stateDir} (${existing} is not writable: ${errorCode(err)})`, STATE_DIR_FIX);
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      // Made meanwhile by another process starting on the same dir: fine.
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && statSync(dir).isDirectory()) continue;
      throw new StateError('state_unwritable', `cannot create TETHER_STATE_DIR ${stateDir} (${errorCode(err)})`, STATE_DIR_FIX);
    }
  }
}

/** Returns TETHER_TOKEN, or the token file's content, creating the file on first start. */
export function ensureRuntimeToken(stateDir: string, configured: string | undefined): string {
  if (configured) return configured;
  const file = join(stateDir, TOKEN_FILE);
  let existing: string | undefined;
  try {
    existing = readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new StateError('state_unwritable', `cannot read ${file} (${errorCode(err)})`, 'make TETHER_STATE_DIR readable and writable by this user');
  }
  if (existing !== undefined && existing.length >= 16) {
    chmodSync(file, 0o600);
    registerSecret(existing);
    return existing;
  }
  const token = randomBytes(32).toString('base64url');
  try {
    writeFileSync(file, token + '\n', { mode: 0o600 });
  } catch (err) {
    // Setting TETHER_TOKEN would not help: the runtime also writes its lock and database here.
    throw new StateError('state_unwritable', `cannot write ${file} (${errorCode(err)})`, 'make TETHER_STATE_DIR writable by this user');
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
