// `tether doctor` on deployments made by `tether setup` and run from their units' ExecStart: a healthy one passes, each broken thing is named.
import { chmodSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TELEGRAM_ERRORS } from '../fakes/telegram-bot-api.js';
import { makeTestDeployment, TEST_OPENAI_KEY, type TestDeployment } from '../support/deployment.js';
import { waitUntil } from '../support/wait.js';

const open: TestDeployment[] = [];
afterEach(async () => {
  for (const d of open.splice(0)) await d.close();
});

async function deployment(): Promise<TestDeployment> {
  const d = await makeTestDeployment();
  open.push(d);
  return d;
}

interface Report {
  ok: boolean;
  checks: Array<{ check: string; status: 'ok' | 'warn' | 'fail'; message: string; fix?: string }>;
}

function health(d: TestDeployment): { state?: string; runtime?: string; adapter?: { state?: string } } {
  try {
    return JSON.parse(readFileSync(join(d.bridgeStateDir, 'telegram.health.json'), 'utf8'));
  } catch {
    return {};
  }
}

async function running(d: TestDeployment) {
  const started = await d.startAll();
  await waitUntil(() => health(d).state === 'running' && health(d).runtime === 'connected', 'the bridge is running and connected');
  return started;
}

function setEnv(d: TestDeployment, file: string, name: string, value: string): void {
  const path = join(d.bundle, file);
  writeFileSync(path, readFileSync(path, 'utf8').replace(new RegExp(`^${name}=.*$`, 'm'), `${name}=${value}`), { mode: 0o600 });
}

function secretsOf(d: TestDeployment): string[] {
  return [TEST_OPENAI_KEY, d.fake.token, /^TETHER_TOKEN=(.+)$/m.exec(readFileSync(join(d.bundle, 'runtime.env'), 'utf8'))![1]!];
}

async function jsonReport(d: TestDeployment): Promise<{ code: number | null; report: Report; text: string }> {
  const r = await d.doctor('--json');
  return { code: r.code, report: JSON.parse(r.stdout) as Report, text: r.stdout + r.stderr };
}

const failing = (r: Report) => r.checks.filter((c) => c.status === 'fail').map((c) => c.check).sort();

describe('tether doctor', () => {
  it('passes a healthy stack, as lines and as --json, and prints no secret', async () => {
    const d = await deployment();
    await running(d);
    const text = await d.doctor();
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^ok {4}node/m);
    expect(text.stdout).toMatch(/0 failure\(s\)\n$/);

    const { code, report } = await jsonReport(d);
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(failing(report)).toEqual([]);
    expect(report.checks.filter((c) => c.status === 'ok').map((c) => c.check)).toEqual([
      'node', 'env:runtime', 'env:telegram', 'state-dir', 'state-dir:telegram', 'disk', 'runtime:health', 'runtime:auth', 'telegram:auth', 'provider', 'telegram:bot', 'clock', 'telegram:webhook', 'telegram:poller', 'telegram:health', 'telegram:user',
    ]);
    // Here systemd does not run: the line says units were not checked.
    expect(report.checks.filter((c) => c.status === 'warn').map((c) => c.check)).toEqual(['units']);
    for (const s of secretsOf(d)) expect(text.stdout).not.toContain(s);
  });

  it('names each broken thing: an env file others can read, a mismatched bridge token, a wrong model key, an open state dir, a webhook, a killed bridge', async () => {
    const d = await deployment();
    const { bridge } = await running(d);
    const secrets = secretsOf(d);
    bridge.kill('SIGKILL');
    await new Promise((r) => bridge.once('exit', r));
    setEnv(d, 'telegram.env', 'TETHER_TOKEN', 'a-token-the-runtime-never-issued-000000');
    chmodSync(join(d.bundle, 'telegram.env'), 0o644);
    setEnv(d, 'runtime.env', 'OPENAI_API_KEY', 'sk-revoked-key-000000000000000000');
    chmodSync(d.stateDir, 0o755);
    d.fake.webhookUrl = 'https://hooks.example.com/bot';

    const { code, report, text } = await jsonReport(d);
    expect(code).toBe(1);
    expect(report.ok).toBe(false);
    expect(failing(report)).toEqual(['env:telegram', 'provider', 'state-dir', 'telegram:auth', 'telegram:health', 'telegram:webhook']);
    const byId = Object.fromEntries(report.checks.map((c) => [c.check, c]));
    expect(byId['env:telegram']!.message).toMatch(/telegram\.env is mode 644: others may read its secrets/);
    expect(byId['env:telegram']!.fix).toMatch(/^chmod 600 /);
    expect(byId['telegram:auth']!.message).toBe('the runtime refuses the token telegram uses');
    expect(byId['provider']!.message).toMatch(/^the provider refused the API key \(401\) at http:\/\/127\.0\.0\.1:\d+\/v1 \(openai\)$/);
    expect(byId['provider']!.fix).toMatch(/^check OPENAI_API_KEY in .*runtime\.env, then: systemctl restart tether-runtime$/);
    expect(byId['telegram:webhook']!.message).toContain('to hooks.example.com');
    expect(byId['telegram:health']!.message).toMatch(/not running .*pid \d+ gone/);
    for (const c of report.checks.filter((x) => x.status === 'fail')) expect(c.fix).toBeTruthy();
    for (const s of [...secrets, 'a-token-the-runtime-never-issued-000000', 'sk-revoked-key-000000000000000000']) expect(text).not.toContain(s);
  });

  it('names a stopped runtime, a revoked bot token and a bridge that never ran', async () => {
    const d = await deployment();
    setEnv(d, 'telegram.env', 'TELEGRAM_BOT_TOKEN', '987654321:AArevokedTokenOfAnotherBot_abcdefghijk');
    const r = await d.doctor();
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}runtime:health +the runtime does not answer at http:\/\/127\.0\.0\.1:\d+\/health/m);
    expect(r.stdout).toMatch(/^FAIL {2}telegram:bot +Telegram refused TELEGRAM_BOT_TOKEN \(401 Unauthorized\)/m);
    expect(r.stdout).toMatch(/fix: the token was revoked or mistyped/);
    const { report } = await jsonReport(d);
    expect(failing(report)).toEqual(['runtime:health', 'telegram:bot', 'telegram:health']);
    expect(r.stdout).not.toContain('987654321:AArevokedTokenOfAnotherBot_abcdefghijk');
  });

  it.runIf(process.getuid?.() === 0)('as root, names an env file the services’ user owns (the agent’s commands could read it)', async () => {
    const d = await deployment();
    chownSync(join(d.bundle, 'telegram.env'), 1000, 1000);
    const { report } = await jsonReport(d);
    expect(report.checks.find((c) => c.check === 'env:telegram')).toMatchObject({ status: 'fail', message: expect.stringMatching(/telegram\.env is owned by uid 1000, not root/), fix: expect.stringMatching(/^chown root:root /) });
    expect(report.checks.find((c) => c.check === 'env:runtime')!.status).toBe('ok');
  });

  it('names a bridge unit that runs as the runtime\'s user (a deployment by hand with one user), and follows its state dir', async () => {
    const d = await deployment();
    const unit = join(d.bundle, 'units', 'tether-telegram.service');
    writeFileSync(unit, readFileSync(unit, 'utf8').replaceAll('tether-telegram', 'tether'));
    const { report } = await jsonReport(d);
    expect(report.checks.find((c) => c.check === 'telegram:user')).toMatchObject({
      status: 'fail',
      message: "tether-telegram.service runs as tether, the runtime's user: the agent's shell tool can read its credentials from /proc",
      fix: expect.stringContaining('user tether-telegram'),
    });
    // Its state dir is now the runtime's: one check of it, and the health file looked for there.
    expect(report.checks.filter((c) => c.check.startsWith('state-dir')).map((c) => c.check)).toEqual(['state-dir']);
    expect(report.checks.find((c) => c.check === 'telegram:health')!.message).toBe(`no ${join(d.stateDir, 'telegram.health.json')}: the bridge has not run`);
  });

  it('names another poller of the same bot', async () => {
    const d = await deployment();
    await running(d);
    d.fake.fail({ method: 'getUpdates', error_code: 409, description: TELEGRAM_ERRORS.pollConflict, times: 1000 });
    // A message ends the poll in flight; the next one meets the other poller.
    d.fake.userSends(5005, 'anyone there?', { from: { id: 5005, first_name: 'Eve' } });
    await waitUntil(() => health(d).adapter?.state === 'conflict', 'the bridge saw the conflict', 15_000);
    const { report } = await jsonReport(d);
    expect(failing(report)).toEqual(['telegram:poller']);
    expect(report.checks.find((c) => c.check === 'telegram:poller')!.message).toMatch(/^another program polls this bot/);
  });
});

describe('tether doctor on units, where systemd runs', () => {
  it('names a unit that is missing, disabled or not active, and passes enabled and active ones', async () => {
    const { checkUnits } = await import('../../deploy/doctor-checks.js');
    const { parseUnit } = await import('../../deploy/unit-file.js');
    const unit = parseUnit('[Service]\nExecStart=/usr/bin/node x\n');
    const proc = (name: 'runtime' | 'telegram' | 'feishu', installed: boolean) => ({ name, envFile: `/etc/tether/${name}.env`, unitName: `tether-${name}.service`, unit: installed ? unit : undefined, env: {} });
    const d = { options: { envDir: '/etc/tether', unitsDir: '/etc/systemd/system', timeoutMs: 1000 }, stateDir: '/var/lib/tether', runtime: proc('runtime', true), bridges: [proc('telegram', true), proc('feishu', false)] };
    const states = { 'tether-runtime.service': { enabled: 'enabled', active: 'active' }, 'tether-telegram.service': { enabled: 'enabled', active: 'failed' } } as Record<string, { enabled: string; active: string }>;
    const results = checkUnits(d as never, (u) => states[u] ?? { enabled: 'disabled', active: 'inactive' });
    expect(results.map((r) => [r.check, r.status, r.message])).toEqual([
      ['unit:feishu', 'fail', '/etc/systemd/system/tether-feishu.service is not installed'],
      ['unit:runtime', 'ok', 'tether-runtime.service is enabled and active'],
      ['unit:telegram', 'fail', 'tether-telegram.service is failed'],
    ]);
    const disabled = checkUnits(d as never, () => ({ enabled: 'disabled', active: 'inactive' }));
    expect(disabled.find((r) => r.check === 'unit:runtime')).toMatchObject({ status: 'fail', message: 'tether-runtime.service is disabled, not enabled: it will not start at boot', fix: 'systemctl enable --now tether-runtime.service' });
  });
});
