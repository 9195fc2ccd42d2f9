// The systemd units, shipped and generated: systemd-analyze verify, their shape, and each ExecStart run with its bundle's env file against the fakes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BRIDGE_SLUGS, BRIDGES } from '../../lib/bridges.js';
import { isTetherSecretVariable } from '../../lib/secret-variables.js';
import { parseEnvFile } from '../../deploy/env-file.js';
import { unitsDir } from '../../deploy/package-files.js';
import { parseUnit, unitEnvironment, unitValues } from '../../deploy/unit-file.js';
import { startFakeModel, type FakeModel } from '../fakes/model-server.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-bot-api.js';
import { repoRoot, runCli, waitForLine } from '../support/cli.js';
import { freePort, waitUntil } from '../support/wait.js';

const OPENAI_KEY = 'sk-test-units-0123456789abcdefghijkl';
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
const shippedUnits = readdirSync(unitsDir()).filter((f) => f.endsWith('.service'));

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
    }
  }
});
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tether-units-'));
  dirs.push(d);
  return d;
}

/**
 * systemd-analyze verify, on a copy whose ExecStart names this node when /usr/bin/node is absent
 * (CI's node lives elsewhere; verify refuses a missing executable, which is all that changes).
 */
function verify(unitPath: string): { status: number | null; output: string } {
  let path = unitPath;
  if (!existsSync('/usr/bin/node')) {
    path = join(tempDir(), unitPath.split('/').pop()!);
    writeFileSync(path, readFileSync(unitPath, 'utf8').replaceAll('/usr/bin/node', process.execPath));
  }
  const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

describe('systemd/ units', () => {
  it('holds the runtime unit and one unit per row of the bridges table', () => {
    expect(shippedUnits.sort()).toEqual(['tether-runtime.service', ...BRIDGE_SLUGS.map((b) => BRIDGES[b].unit)].sort());
  });

  it.each(BRIDGE_SLUGS)('%s: reads its own env file, runs tether <slug>, wants the runtime without failing when it is down', (slug) => {
    const unit = parseUnit(readFileSync(join(unitsDir(), BRIDGES[slug].unit), 'utf8'));
    expect(unitValues(unit, 'Service', 'EnvironmentFile')).toEqual([`/etc/tether/${slug}.env`]);
    expect(unitValues(unit, 'Service', 'ExecStart')).toEqual([`/usr/bin/node /opt/tether/bin/tether.js ${slug}`]);
    expect(unitValues(unit, 'Unit', 'Wants').join(' ')).toContain('tether-runtime.service');
    expect(unitValues(unit, 'Unit', 'Requires')).toEqual([]);
    expect(unitValues(unit, 'Unit', 'BindsTo')).toEqual([]);
    expect(unitValues(unit, 'Service', 'InaccessiblePaths')).toEqual(['-/var/lib/tether/workspace']);
  });

  it('every bridge unit has the Telegram unit’s shape: only the names differ', () => {
    const shape = (slug: string, text: string) => text.replaceAll(slug, 'SLUG').replace(/^#.*$/gm, '').replace(/^Description=.*$/m, '');
    const telegram = shape('telegram', readFileSync(join(unitsDir(), BRIDGES.telegram.unit), 'utf8'));
    for (const slug of BRIDGE_SLUGS) expect(shape(slug, readFileSync(join(unitsDir(), BRIDGES[slug].unit), 'utf8'))).toBe(telegram);
  });

  it('no unit sets a credential itself: secrets come only from EnvironmentFile=', () => {
    for (const u of shippedUnits) {
      const env = unitEnvironment(parseUnit(readFileSync(join(unitsDir(), u), 'utf8')));
      expect(Object.keys(env).filter(isTetherSecretVariable)).toEqual([]);
    }
  });

  it.skipIf(!hasAnalyze).each(shippedUnits)('systemd-analyze verify %s (skipped where systemd-analyze is missing; .ci/run installs it)', (u) => {
    expect(verify(join(unitsDir(), u))).toEqual({ status: 0, output: '' });
  });

  it.runIf(process.env.TETHER_REQUIRE_DEPLOY_TOOLS === '1')('systemd-analyze is installed where .ci/run requires it', () => {
    expect(hasAnalyze).toBe(true);
  });
});

describe('a generated bundle’s units', () => {
  let model: FakeModel;
  let fake: FakeTelegram;
  let bundle: string;
  let port: number;

  beforeAll(async () => {
    model = await startFakeModel({ apiKey: OPENAI_KEY, models: ['gpt-4.1-mini'] });
    fake = await startFakeTelegram();
    port = await freePort();
    const root = tempDir();
    bundle = join(root, 'bundle');
    const r = await runCli(['setup', '--non-interactive', '--target', 'vps', '--bridge', 'telegram', '--provider', 'openai', '--out', bundle], {
      env: { TELEGRAM_BOT_TOKEN: fake.token, OPENAI_API_KEY: OPENAI_KEY, TETHER_BASE_URL: model.url, TELEGRAM_API_ROOT: fake.url, TETHER_PORT: String(port) },
      cwd: root,
    });
    if (r.code !== 0) throw new Error(`tether setup failed: ${r.stderr}`);
    return async () => {
      await fake.close();
      await model.close();
    };
  });

  it.skipIf(!hasAnalyze)('pass systemd-analyze verify (skipped where systemd-analyze is missing; .ci/run installs it)', () => {
    for (const u of readdirSync(join(bundle, 'units'))) expect(verify(join(bundle, 'units', u))).toEqual({ status: 0, output: '' });
  });

  /**
   * Starts a unit's ExecStart as systemd would, as this user: its Environment= and EnvironmentFile=,
   * its WorkingDirectory, with the host paths moved into a temp dir and /opt/tether = the bundle's app.
   */
  function startUnit(unitName: string, hostRoot: string): ChildProcess {
    const unit = parseUnit(readFileSync(join(bundle, 'units', unitName), 'utf8'));
    const host = (p: string) => p.replace('/var/lib/tether', join(hostRoot, 'state')).replace('/opt/tether', join(bundle, 'app')).replace('/etc/tether', bundle);
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: hostRoot };
    for (const [k, v] of Object.entries(unitEnvironment(unit))) env[k] = host(v);
    for (const file of unitValues(unit, 'Service', 'EnvironmentFile')) Object.assign(env, parseEnvFile(readFileSync(host(file), 'utf8')));
    const [program, ...args] = unitValues(unit, 'Service', 'ExecStart')[0]!.split(/\s+/);
    expect(program).toBe('/usr/bin/node');
    const cwd = host(unitValues(unit, 'Service', 'WorkingDirectory')[0]!);
    const child = spawn(process.execPath, args.map(host), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    return child;
  }

  it('ExecStart with the bundle’s env files: the runtime reaches health, the bridge pairs a phone and a message is answered', async () => {
    const hostRoot = tempDir();
    // What StateDirectory= and `npm ci --omit=dev` in install.sh make on a host.
    mkdirSync(join(hostRoot, 'state', 'workspace'), { recursive: true, mode: 0o700 });
    if (!existsSync(join(bundle, 'app', 'node_modules'))) symlinkSync(join(repoRoot, 'node_modules'), join(bundle, 'app', 'node_modules'));

    const runtime = startUnit('tether-runtime.service', hostRoot);
    await waitForLine(runtime, /"msg":"runtime listening"/);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);

    const bridge = startUnit('tether-telegram.service', hostRoot);
    const line = await waitForLine(bridge, /send it \/pair [A-Z0-9]{8}/, 20_000);
    const code = /\/pair ([A-Z0-9]{8})/.exec(line)![1]!;
    const alice = { id: 4242, first_name: 'Alice' };
    fake.userSends(alice.id, `/pair ${code}`, { from: alice });
    fake.userSends(alice.id, 'hello from the phone', { from: alice });
    await fake.waitFor(() => fake.sent(alice.id).some((m) => m.text === 'echo: hello from the phone'), 20_000, 'the answer on the phone');
    // The key reached the provider from runtime.env (the fake model refuses any other).
    expect(model.requests.at(-1)!.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);

    // No secret in either process's argv.
    const secrets = [OPENAI_KEY, fake.token, parseEnvFile(readFileSync(join(bundle, 'runtime.env'), 'utf8')).TETHER_TOKEN!];
    for (const child of [runtime, bridge]) {
      const argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
      for (const s of secrets) expect(argv).not.toContain(s);
    }
    await waitUntil(() => existsSync(join(hostRoot, 'state', 'telegram.health.json')), 'the bridge wrote its health file');
  });
});
