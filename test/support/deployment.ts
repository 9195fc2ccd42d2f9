// A deployment for tests, made as a user makes one: `tether setup` writes a bundle against the fakes, and each unit's ExecStart runs with its env file in a temp "host".
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnvFile } from '../../deploy/env-file.js';
import { parseUnit, unitEnvironment, unitValues } from '../../deploy/unit-file.js';
import { startFakeFeishu, type FakeFeishu } from '../fakes/feishu-open-platform.js';
import { startFakeModel, type FakeModel } from '../fakes/model-server.js';
import { startFakeTelegram, type FakeTelegram } from '../fakes/telegram-bot-api.js';
import { repoRoot, runCli, waitForLine } from './cli.js';
import { freePort } from './wait.js';

export const TEST_OPENAI_KEY = 'sk-test-deploy-0123456789abcdefghijkl';

export interface TestDeployment {
  model: FakeModel;
  fake: FakeTelegram;
  /** The bundle `tether setup` wrote (env files, units/, app/). */
  bundle: string;
  /** Stands in for the host: state/ is /var/lib/tether, state-<bridge>/ is /var/lib/tether-<bridge>. */
  host: string;
  stateDir: string;
  /** The bridge's own state dir (/var/lib/tether-<bridge> on a host). */
  bridgeStateDir: string;
  port: number;
  /** Starts a unit's ExecStart as systemd would, as this user (see startUnit). */
  startUnit(unitName: string): ChildProcess;
  /** Runtime listening, bridge running with its pairing code logged. */
  startAll(): Promise<{ runtime: ChildProcess; bridge: ChildProcess; pairLine: string }>;
  /** `tether doctor` on this deployment (from source), with extra arguments. */
  doctor(...args: string[]): ReturnType<typeof runCli>;
  close(): Promise<void>;
}

/** The same, with the Feishu bridge against a fake open platform instead of Telegram. */
export interface FeishuTestDeployment extends Omit<TestDeployment, 'fake' | 'startAll'> {
  feishu: FakeFeishu;
  /** Runtime listening, bridge started (the caller waits for its health). */
  startAll(): Promise<{ runtime: ChildProcess; bridge: ChildProcess }>;
}

export async function makeTestDeployment(): Promise<TestDeployment> {
  const fake = await startFakeTelegram();
  const base = await writeDeployment('telegram', { TELEGRAM_BOT_TOKEN: fake.token, TELEGRAM_API_ROOT: fake.url }, () => fake.close());
  return {
    ...base,
    fake,
    async startAll() {
      const runtime = await base.startRuntime();
      const bridge = base.startUnit('tether-telegram.service');
      const pairLine = await waitForLine(bridge, /send it \/pair [A-Z0-9]{8}/, 20_000);
      return { runtime, bridge, pairLine };
    },
  };
}

export async function makeFeishuTestDeployment(): Promise<FeishuTestDeployment> {
  const feishu = await startFakeFeishu({ appSecret: 'feishu-test-app-secret-0123456789' });
  const base = await writeDeployment('feishu', { FEISHU_APP_ID: feishu.appId, FEISHU_APP_SECRET: feishu.appSecret, FEISHU_DOMAIN: feishu.url }, () => feishu.close());
  return {
    ...base,
    feishu,
    async startAll() {
      const runtime = await base.startRuntime();
      return { runtime, bridge: base.startUnit('tether-feishu.service') };
    },
  };
}

async function writeDeployment(bridge: 'telegram' | 'feishu', bridgeEnv: Record<string, string>, closeFake: () => Promise<void>): Promise<Omit<TestDeployment, 'fake' | 'startAll'> & { startRuntime(): Promise<ChildProcess> }> {
  const model = await startFakeModel({ apiKey: TEST_OPENAI_KEY, models: ['gpt-4.1-mini'] });
  const port = await freePort();
  const root = mkdtempSync(join(tmpdir(), 'tether-deploy-'));
  const bundle = join(root, 'bundle');
  const host = join(root, 'host');
  const stateDir = join(host, 'state');
  const bridgeStateDir = `${stateDir}-${bridge}`;
  const r = await runCli(['setup', '--non-interactive', '--target', 'vps', '--bridge', bridge, '--provider', 'openai', '--out', bundle], {
    env: { ...bridgeEnv, OPENAI_API_KEY: TEST_OPENAI_KEY, TETHER_BASE_URL: model.url, TETHER_PORT: String(port) },
    cwd: root,
  });
  if (r.code !== 0) throw new Error(`tether setup failed: ${r.stderr}`);
  // What StateDirectory= (0700) and `npm ci --omit=dev` in install.sh make on a host.
  mkdirSync(join(stateDir, 'workspace'), { recursive: true, mode: 0o700 });
  mkdirSync(bridgeStateDir, { mode: 0o700 });
  if (!existsSync(join(bundle, 'app', 'node_modules'))) symlinkSync(join(repoRoot, 'node_modules'), join(bundle, 'app', 'node_modules'));
  const children: ChildProcess[] = [];

  const onHost = (p: string) => p.replace('/var/lib/tether', stateDir).replace('/opt/tether', join(bundle, 'app')).replace('/etc/tether', bundle);

  /** Its Environment= and EnvironmentFile=, its WorkingDirectory, host paths moved into the temp dir (/var/lib/tether-telegram = state-telegram), /opt/tether = the bundle's app. */
  const startUnit = (unitName: string): ChildProcess => {
    const unit = parseUnit(readFileSync(join(bundle, 'units', unitName), 'utf8'));
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: host };
    for (const [k, v] of Object.entries(unitEnvironment(unit))) env[k] = onHost(v);
    for (const file of unitValues(unit, 'Service', 'EnvironmentFile')) Object.assign(env, parseEnvFile(readFileSync(onHost(file), 'utf8')));
    const [program, ...args] = unitValues(unit, 'Service', 'ExecStart')[0]!.split(/\s+/);
    if (program !== '/usr/bin/node') throw new Error(`unexpected ExecStart program ${program}`);
    const child = spawn(process.execPath, args.map(onHost), { cwd: onHost(unitValues(unit, 'Service', 'WorkingDirectory')[0]!), env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    return child;
  };

  return {
    model,
    bundle,
    host,
    stateDir,
    bridgeStateDir,
    port,
    startUnit,
    async startRuntime() {
      const runtime = startUnit('tether-runtime.service');
      await waitForLine(runtime, /"msg":"runtime listening"/);
      return runtime;
    },
    doctor: (...args) => runCli(['doctor', '--env-dir', bundle, '--units-dir', join(bundle, 'units'), '--state-dir', stateDir, '--timeout', '3', ...args], { env: {}, cwd: host }),
    async close() {
      for (const c of children) {
        if (c.exitCode === null && c.signalCode === null) {
          c.kill('SIGKILL');
          await new Promise((r) => c.once('exit', r));
        }
      }
      await closeFake();
      await model.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
