// The systemd units, shipped and generated: systemd-analyze verify, their shape, and each ExecStart run with its bundle's env file against the fakes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BRIDGE_SLUGS, BRIDGES } from '../../lib/bridges.js';
import { isTetherSecretVariable } from '../../lib/secret-variables.js';
import { parseEnvFile } from '../../deploy/env-file.js';
import { unitsDir } from '../../deploy/package-files.js';
import { parseUnit, unitEnvironment, unitValues } from '../../deploy/unit-file.js';
import { makeTestDeployment, TEST_OPENAI_KEY, type TestDeployment } from '../support/deployment.js';
import { waitUntil } from '../support/wait.js';

const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
const shippedUnits = readdirSync(unitsDir()).filter((f) => f.endsWith('.service'));

const dirs: string[] = [];
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
    expect(unitValues(unit, 'Service', 'InaccessiblePaths')).toEqual(['-/var/lib/tether']);
  });

  it.each(BRIDGE_SLUGS)('%s: runs as its own user with its own state dir, so the agent (the runtime\'s user) cannot read its /proc/<pid>/environ', (slug) => {
    const runtime = parseUnit(readFileSync(join(unitsDir(), 'tether-runtime.service'), 'utf8'));
    const unit = parseUnit(readFileSync(join(unitsDir(), BRIDGES[slug].unit), 'utf8'));
    expect(unitValues(unit, 'Service', 'User')).toEqual([`tether-${slug}`]);
    expect(unitValues(unit, 'Service', 'User')[0]).not.toBe(unitValues(runtime, 'Service', 'User')[0]);
    expect(unitValues(unit, 'Service', 'Group')).toEqual([`tether-${slug}`]);
    expect(unitEnvironment(unit).TETHER_STATE_DIR).toBe(`/var/lib/tether-${slug}`);
    expect(unitValues(unit, 'Service', 'StateDirectory')).toEqual([`tether-${slug}`]);
    expect(unitValues(unit, 'Service', 'ReadWritePaths')).toEqual([`/var/lib/tether-${slug}`]);
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
  let d: TestDeployment;
  beforeAll(async () => {
    d = await makeTestDeployment();
    return () => d.close();
  });

  it.skipIf(!hasAnalyze)('pass systemd-analyze verify (skipped where systemd-analyze is missing; .ci/run installs it)', () => {
    for (const u of readdirSync(join(d.bundle, 'units'))) expect(verify(join(d.bundle, 'units', u))).toEqual({ status: 0, output: '' });
  });

  it('give each bridge a user and a state dir apart from the runtime\'s, and its env file the runtime token it needs instead', () => {
    const units = readdirSync(join(d.bundle, 'units')).map((u) => [u, parseUnit(readFileSync(join(d.bundle, 'units', u), 'utf8'))] as const);
    const users = units.map(([u, unit]) => [u, unitValues(unit, 'Service', 'User')[0], unitEnvironment(unit).TETHER_STATE_DIR]);
    expect(users.sort()).toEqual([
      ['tether-runtime.service', 'tether', '/var/lib/tether'],
      ['tether-telegram.service', 'tether-telegram', '/var/lib/tether-telegram'],
    ]);
    expect(parseEnvFile(readFileSync(join(d.bundle, 'telegram.env'), 'utf8')).TETHER_TOKEN).toBe(parseEnvFile(readFileSync(join(d.bundle, 'runtime.env'), 'utf8')).TETHER_TOKEN);
  });

  it('ExecStart with the bundle’s env files: the runtime reaches health, the bridge pairs a phone and a message is answered', async () => {
    const { runtime, bridge, pairLine } = await d.startAll();
    const health = await fetch(`http://127.0.0.1:${d.port}/health`);
    expect(health.status).toBe(200);
    const code = /\/pair ([A-Z0-9]{8})/.exec(pairLine)![1]!;
    const alice = { id: 4242, first_name: 'Alice' };
    d.fake.userSends(alice.id, `/pair ${code}`, { from: alice });
    d.fake.userSends(alice.id, 'hello from the phone', { from: alice });
    await d.fake.waitFor(() => d.fake.sent(alice.id).some((m) => m.text === 'echo: hello from the phone'), 20_000, 'the answer on the phone');
    // The key reached the provider from runtime.env (the fake model refuses any other).
    expect(d.model.requests.at(-1)!.headers.authorization).toBe(`Bearer ${TEST_OPENAI_KEY}`);

    // No secret in either process's argv.
    const secrets = [TEST_OPENAI_KEY, d.fake.token, parseEnvFile(readFileSync(join(d.bundle, 'runtime.env'), 'utf8')).TETHER_TOKEN!];
    for (const child of [runtime, bridge]) {
      const argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
      for (const s of secrets) expect(argv).not.toContain(s);
    }
    // The bridge keeps its state in its own dir and wrote nothing in the runtime's.
    await waitUntil(() => existsSync(join(d.bridgeStateDir, 'telegram.health.json')), 'the bridge wrote its health file');
    expect(readdirSync(d.stateDir).filter((f) => f.startsWith('telegram'))).toEqual([]);
  });
});
