// `tether doctor` on a Feishu deployment made by `tether setup` against the fake open platform: the app, the bot, the long-connection endpoint, subscriptions, another bridge on the app.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockFile } from '../../bridges/core/lock.js';
import { FAULTS, FEISHU_CODES } from '../fakes/feishu-open-platform.js';
import { makeFeishuTestDeployment, TEST_OPENAI_KEY, type FeishuTestDeployment } from '../support/deployment.js';
import { freePort, waitUntil } from '../support/wait.js';

const open: FeishuTestDeployment[] = [];
afterEach(async () => {
  for (const d of open.splice(0)) await d.close();
});

async function deployment(): Promise<FeishuTestDeployment> {
  const d = await makeFeishuTestDeployment();
  open.push(d);
  return d;
}

interface Report {
  ok: boolean;
  checks: Array<{ check: string; status: 'ok' | 'warn' | 'fail'; message: string; fix?: string }>;
}

function health(d: FeishuTestDeployment): { state?: string; runtime?: string; adapter?: { state?: string } } {
  try {
    return JSON.parse(readFileSync(join(d.bridgeStateDir, 'feishu.health.json'), 'utf8'));
  } catch {
    return {};
  }
}

function setEnv(d: FeishuTestDeployment, name: string, value: string): void {
  const path = join(d.bundle, 'feishu.env');
  writeFileSync(path, readFileSync(path, 'utf8').replace(new RegExp(`^${name}=.*$`, 'm'), `${name}=${value}`), { mode: 0o600 });
}

/** Both outputs, so a secret in either the lines or the JSON is caught. */
async function doctor(d: FeishuTestDeployment): Promise<{ code: number | null; report: Report; text: string }> {
  const lines = await d.doctor();
  const json = await d.doctor('--json');
  expect(json.code).toBe(lines.code);
  return { code: json.code, report: JSON.parse(json.stdout) as Report, text: lines.stdout + lines.stderr + json.stdout + json.stderr };
}

const byStatus = (r: Report, s: 'ok' | 'warn' | 'fail') => r.checks.filter((c) => c.status === s).map((c) => c.check).sort();
const line = (r: Report, id: string) => r.checks.find((c) => c.check === id)!;

/** Nothing that lets someone act as the app: its secret, a tenant token, the ws URL's ticket and access key. */
function expectNoSecret(d: FeishuTestDeployment, text: string, extra: string[] = []): void {
  for (const s of [d.feishu.appSecret, TEST_OPENAI_KEY, ...extra]) expect(text).not.toContain(s);
  for (const t of d.feishu.calls.filter((c) => c.authorization).map((c) => c.authorization!.replace(/^Bearer /, ''))) expect(text).not.toContain(t);
  expect(text).not.toMatch(/access_key|ticket=|\/ws\?|t-fake-/);
}

describe('tether doctor on a Feishu deployment', () => {
  it('passes a running Feishu bridge: credentials, the bot by name, the long connection, and says the card callback cannot be checked', async () => {
    const d = await deployment();
    await d.startAll();
    await waitUntil(() => health(d).state === 'running' && health(d).runtime === 'connected' && health(d).adapter?.state === 'connected', 'the bridge is running, connected to the runtime and to Feishu', 20_000);
    const endpointCallsBefore = d.feishu.endpointCalls();

    const { code, report, text } = await doctor(d);
    expect(code).toBe(0);
    expect(byStatus(report, 'fail')).toEqual([]);
    expect(report.checks.filter((c) => c.status === 'ok').map((c) => c.check)).toEqual([
      'node', 'env:runtime', 'env:feishu', 'state-dir', 'state-dir:feishu', 'disk', 'runtime:health', 'runtime:auth', 'feishu:auth', 'provider', 'feishu:app', 'feishu:bot', 'feishu:long-connection', 'feishu:connection', 'feishu:health', 'feishu:user',
    ]);
    expect(byStatus(report, 'warn')).toEqual(['feishu:subscriptions', 'units']);
    expect(line(report, 'feishu:bot').message).toContain('"Tether Test Bot"');
    expect(line(report, 'feishu:app').message).toContain(d.feishu.appId);
    expect(line(report, 'feishu:subscriptions').message).toMatch(/card-callback subscriptions cannot be checked from the app.*200340/);
    // The doctor asked the endpoint (twice: lines and --json) but opened no connection of its own.
    expect(d.feishu.endpointCalls() - endpointCallsBefore).toBe(2);
    expect(d.feishu.openConnections()).toHaveLength(1);
    expectNoSecret(d, text);
  });

  it('names a wrong app secret with Feishu\'s code and the fix, on the token and on the long connection', async () => {
    const d = await deployment();
    const wrong = 'a-secret-feishu-never-issued-0000000';
    setEnv(d, 'FEISHU_APP_SECRET', wrong);
    const { code, report, text } = await doctor(d);
    expect(code).toBe(1);
    // Nothing runs here: the runtime and the bridge fail too, and no bot line comes without a token.
    expect(byStatus(report, 'fail')).toEqual(['feishu:app', 'feishu:health', 'feishu:long-connection', 'runtime:health']);
    expect(line(report, 'feishu:app').message).toBe(`Feishu refused the app ${d.feishu.appId} (code 10014 app secret invalid): the App Secret is wrong`);
    expect(line(report, 'feishu:app').fix).toMatch(/^copy FEISHU_APP_SECRET again .*systemctl restart tether-feishu$/);
    expect(line(report, 'feishu:long-connection').message).toBe('the long-connection endpoint refuses the app (code 514 auth failed): authentication failed');
    expect(report.checks.some((c) => c.check === 'feishu:bot')).toBe(false);
    expectNoSecret(d, text, [wrong]);
  });

  it('names an endpoint that refuses the long connection: too many connections, a wrong domain', async () => {
    const d = await deployment();
    d.feishu.fail({ route: 'ws.endpoint', ...FAULTS.endpointCode(FEISHU_CODES.exceedConnLimit), times: 2 });
    const first = await doctor(d);
    expect(first.code).toBe(1);
    expect(byStatus(first.report, 'fail')).toEqual(['feishu:health', 'feishu:long-connection', 'runtime:health']);
    expect(line(first.report, 'feishu:long-connection').message).toBe('the long-connection endpoint refuses the app (code 1000040350 exceed conn limit): too many long connections for this app');
    expect(line(first.report, 'feishu:long-connection').fix).toMatch(/^stop the other programs connected with this app/);
    expect(line(first.report, 'feishu:bot').status).toBe('ok');

    d.feishu.fail({ route: 'ws.endpoint', code: 1000040351, msg: 'incorrect domain name', times: 2 });
    const second = await doctor(d);
    expect(line(second.report, 'feishu:long-connection')).toMatchObject({ status: 'fail', message: expect.stringMatching(/code 1000040351 incorrect domain name\): the wrong domain for this app/), fix: expect.stringMatching(/FEISHU_DOMAIN=lark/) });
    expectNoSecret(d, first.text + second.text);
  });

  it('names an unreachable domain once, with the domain, and asks nothing further', async () => {
    const d = await deployment();
    const dead = `http://127.0.0.1:${await freePort()}`;
    setEnv(d, 'FEISHU_DOMAIN', dead);
    const { code, report, text } = await doctor(d);
    expect(code).toBe(1);
    expect(byStatus(report, 'fail')).toEqual(['feishu:app', 'feishu:health', 'runtime:health']);
    expect(line(report, 'feishu:app').message).toBe(`cannot reach the open platform at ${dead} (ECONNREFUSED)`);
    expect(line(report, 'feishu:app').fix).toContain(`curl -sI ${dead}`);
    expect(report.checks.filter((c) => c.check.startsWith('feishu:')).map((c) => c.check)).toEqual(['feishu:app', 'feishu:subscriptions', 'feishu:connection', 'feishu:health', 'feishu:user']);
    expectNoSecret(d, text);
  });

  it('names an app without the Bot feature', async () => {
    const d = await deployment();
    // What bot/v3/info answers an app that has no bot: no open id to send as.
    d.feishu.fail({ route: 'bot.info', status: 200, body: { code: 0, msg: 'ok', bot: { activate_status: 2, app_name: 'Tether Test Bot', ip_white_list: [] } }, times: 2 });
    const { report } = await doctor(d);
    expect(line(report, 'feishu:bot')).toMatchObject({ status: 'fail', message: 'the app has no bot: the Bot feature is not enabled', fix: expect.stringMatching(/Add Features → Bot/) });
  });

  it('names another tether feishu holding the app\'s lock next to the one the health file describes', async () => {
    const d = await deployment();
    // This test process stands in for a second bridge started by hand: alive, and not the health file's pid.
    writeFileSync(lockFile(d.bridgeStateDir, 'feishu', d.feishu.appId), `${process.pid}\n`);
    writeFileSync(join(d.bridgeStateDir, 'feishu.health.json'), JSON.stringify({ pid: 2 ** 22 + 1, state: 'running', runtime: 'connected', adapter: { state: 'connected' } }));
    const { report } = await doctor(d);
    expect(line(report, 'feishu:connection')).toMatchObject({ status: 'fail', message: `another tether feishu (pid ${process.pid}) holds this app's lock`, fix: `stop it (kill ${process.pid}) and let the unit run the bridge` });
  });
});
