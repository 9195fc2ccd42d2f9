// The Telegram bridge's import graph stays lean: neither the undici package, nor Node's bundled one (global fetch), nor grammY's node-fetch build (docs/BENCHMARKS.md, bridge RSS).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../support/cli.js';

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Loads the telegram command the way `tether telegram` does (cli/main.ts, then its lazy import)
 * in a fresh node, and prints the npm packages in require.cache (undici and node-fetch are
 * CommonJS, so even an ESM import of them lands there) and whether Node's bundled undici was loaded.
 */
const PROBE = `
import { createRequire } from 'node:module';
const { COMMANDS } = await import('./cli/main.ts');
await COMMANDS.telegram.load();
const packages = new Set(Object.keys(createRequire(import.meta.url).cache).flatMap((path) => {
  const m = /[\\\\/]node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)[\\\\/](?!.*[\\\\/]node_modules[\\\\/])/.exec(path);
  return m ? [m[1]] : [];
}));
const bundledUndici = process.moduleLoadList.some((m) => m.includes('undici'));
process.stdout.write(JSON.stringify({ packages: [...packages].sort(), bundledUndici }));
`;

describe('the telegram command', () => {
  it('loads neither undici nor node-fetch, and leaves Node’s global fetch untouched', () => {
    const out = spawnSync(process.execPath, ['--import', tsxLoader, '--input-type=module', '-e', PROBE], { cwd: repoRoot, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' } });
    expect(out.stderr).toBe('');
    const loaded = JSON.parse(out.stdout) as { packages: string[]; bundledUndici: boolean };
    // The probe itself must see CommonJS packages, or an empty list would prove nothing.
    expect(loaded.packages).toContain('better-sqlite3');
    expect(loaded.packages).not.toContain('undici');
    expect(loaded.packages).not.toContain('node-fetch');
    expect(loaded.bundledUndici).toBe(false);
  });
});
