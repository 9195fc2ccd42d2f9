// The Telegram bridge's import graph stays lean: neither the undici package, nor Node's bundled one (global fetch), nor grammY's node-fetch build (docs/BENCHMARKS.md, bridge RSS).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../support/cli.js';

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Loads the telegram command the way `tether telegram` does (cli/main.ts, then its lazy import)
 * in a fresh node, makes one Bot API call through the bridge's grammY against a local fake (so
 * what loads on first use is loaded too), and prints the npm packages in require.cache (undici
 * and node-fetch are CommonJS, so even an ESM import of them lands there), whether Node's bundled
 * undici was loaded, and the bot the call answered.
 */
const PROBE = `
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
const { COMMANDS } = await import('./cli/main.ts');
await COMMANDS.telegram.load();
const fake = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ ok: true, result: { id: 42, is_bot: true, first_name: 'probe', username: 'probe_bot' } }));
});
await new Promise((r) => fake.listen(0, '127.0.0.1', r));
const { Api, telegramFetch } = await import('./bridges/telegram/grammy.ts');
const me = await new Api('123456789:AAprobe', { apiRoot: 'http://127.0.0.1:' + fake.address().port, fetch: telegramFetch }).getMe();
fake.closeAllConnections();
fake.close();
const packages = new Set(Object.keys(createRequire(import.meta.url).cache).flatMap((path) => {
  const m = /[\\\\/]node_modules[\\\\/]((?:@[^\\\\/]+[\\\\/])?[^\\\\/]+)[\\\\/](?!.*[\\\\/]node_modules[\\\\/])/.exec(path);
  return m ? [m[1]] : [];
}));
const bundledUndici = process.moduleLoadList.some((m) => m.includes('undici'));
// Exits once written: the bridge's keep-alive pool would hold the process for its idle time.
process.stdout.write(JSON.stringify({ packages: [...packages].sort(), bundledUndici, bot: me.username }), () => process.exit(0));
`;

describe('the telegram command', () => {
  it('loads neither undici nor node-fetch, and leaves Node’s global fetch untouched', () => {
    const out = spawnSync(process.execPath, ['--import', tsxLoader, '--input-type=module', '-e', PROBE], { cwd: repoRoot, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' } });
    // stderr only explains a failure: a Node warning there (an experimental API, a deprecation) is no concern of this test.
    expect(out.status, out.stderr).toBe(0);
    const loaded = JSON.parse(out.stdout) as { packages: string[]; bundledUndici: boolean; bot: string };
    expect(loaded.bot).toBe('probe_bot');
    // The probe itself must see CommonJS packages, or an empty list would prove nothing.
    expect(loaded.packages).toContain('better-sqlite3');
    expect(loaded.packages).not.toContain('undici');
    expect(loaded.packages).not.toContain('node-fetch');
    expect(loaded.bundledUndici).toBe(false);
  });
});
