// Writes a rendered bundle and the app it carries to --out in one step: built beside it, then renamed into place, so a failure leaves no half bundle.
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { TetherError } from '../lib/errors.js';
import type { BundleFile } from './bundle.js';
import { APP_PATHS } from './package-files.js';

/** A directory with anything in it, or anything that is not a directory. */
export function bundleExists(out: string): boolean {
  if (!existsSync(out)) return false;
  return !statSync(out).isDirectory() || readdirSync(out).length > 0;
}

/** The app a bundle carries must be compiled: hosts install without the compiler (a dev dependency). */
export function assertAppBuilt(packageRoot: string): void {
  if (!existsSync(join(packageRoot, 'dist', 'cli', 'main.js'))) {
    throw new TetherError('app_not_built', `${join(packageRoot, 'dist')} is missing`, 'run npm run build in the Tether directory first: the bundle carries the compiled CLI');
  }
}

export function writeBundle(out: string, files: readonly BundleFile[], packageRoot: string): void {
  assertAppBuilt(packageRoot);
  const target = resolve(out);
  mkdirSync(dirname(target), { recursive: true });
  const building = `${target}.partial-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  // 0700: the bundle holds secrets until it is installed.
  mkdirSync(building, { mode: 0o700 });
  try {
    for (const f of files) {
      const path = join(building, f.path);
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, f.content, { mode: f.mode });
      chmodSync(path, f.mode);
    }
    for (const p of APP_PATHS) {
      const from = join(packageRoot, p);
      if (existsSync(from)) cpSync(from, join(building, 'app', p), { recursive: true });
    }
    if (existsSync(target)) {
      const old = `${target}.old-${process.pid}`;
      renameSync(target, old);
      renameSync(building, target);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(building, target);
    chmodSync(target, 0o700);
  } catch (err) {
    rmSync(building, { recursive: true, force: true });
    throw err;
  }
}
