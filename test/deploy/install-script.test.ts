// The generated install.sh: valid bash, clean under ShellCheck, and free of secrets, for every target and bridge set; the tether command it installs.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderBundle, type SetupAnswers } from '../../deploy/bundle.js';
import { TARGET_NAMES } from '../../deploy/targets.js';

const hasShellcheck = spawnSync('shellcheck', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'tether-install-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base: SetupAnswers = {
  target: 'vps',
  bridges: ['telegram', 'feishu'],
  provider: 'openai',
  runtimeSettings: {},
  providerKey: { variable: 'OPENAI_API_KEY', value: 'sk-install-test-000000000000' },
  bridgeValues: { telegram: { TELEGRAM_BOT_TOKEN: '123456789:AAfakeTokenForTestsOnly_abcdefghijklmnop' }, feishu: { FEISHU_APP_ID: 'cli_0123456789abcdef', FEISHU_APP_SECRET: 'feishu-secret-00000000000' } },
  token: 'install-test-token-000000000000000000',
};

function installScript(answers: SetupAnswers): string {
  const file = join(dir, `install-${answers.target}-${answers.bridges.join('-') || 'none'}.sh`);
  writeFileSync(file, renderBundle(answers, { nodeVersion: '20.19.5', writtenAt: 'now' }).find((f) => f.path === 'install.sh')!.content);
  return file;
}

const cases = TARGET_NAMES.flatMap((target) => [
  { ...base, target },
  { ...base, target, bridges: ['telegram' as const] },
  { ...base, target, bridges: [] },
]);

describe('install.sh', () => {
  it.each(cases)('passes bash -n ($target, $bridges)', (answers) => {
    const r = spawnSync('bash', ['-n', installScript(answers)], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!hasShellcheck).each(cases)('passes shellcheck ($target, $bridges) (skipped where shellcheck is missing; .ci/run installs it)', (answers) => {
    const r = spawnSync('shellcheck', [installScript(answers)], { encoding: 'utf8' });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it.runIf(process.env.TETHER_REQUIRE_DEPLOY_TOOLS === '1')('shellcheck is installed where .ci/run requires it', () => {
    expect(hasShellcheck).toBe(true);
  });
});

/**
 * The /usr/local/bin/tether that install.sh writes, made by install.sh's own lines, with the host
 * stood in for: `id` and `runuser` on PATH answer as root on a host with the bundle's users and log
 * what they were asked, and node prints the command and state dir it would run with.
 */
function hostWrapper(bridges: readonly string[]): { run(...args: string[]): { status: number | null; out: string; err: string } } {
  const script = readFileSync(installScript({ ...base, bridges: bridges as SetupAnswers['bridges'] }), 'utf8');
  const block = /\n(\{\n {2}printf[\s\S]*?\n\} >\/usr\/local\/bin\/tether)\n/.exec(script)![1]!;
  const root = mkdtempSync(join(dir, 'host-'));
  const bin = join(root, 'bin');
  mkdirSync(bin);
  const wrapper = join(root, 'tether');
  const users = ['tether', ...bridges.map((b) => `tether-${b}`)].join(' ');
  writeFileSync(join(bin, 'id'), `#!/bin/sh\nif [ "$1" = -u ] && [ -z "\${2:-}" ]; then echo "\${FAKE_UID:-0}"; exit 0; fi\nfor u in ${users}; do [ "$2" = "$u" ] && exit 0; done\nexit 1\n`, { mode: 0o755 });
  // runuser: drop to the user (here: note it and carry on as non-root, FAKE_UID=1).
  writeFileSync(join(bin, 'runuser'), `#!/bin/sh\necho "runuser $*" >&2\nshift 3\nexec env FAKE_UID=1 "$@"\n`, { mode: 0o755 });
  const made = spawnSync('bash', ['-c', `set -euo pipefail\nBRIDGES=(${bridges.join(' ')})\n${block.replace('/usr/local/bin/tether', wrapper)}\nchmod 0755 ${wrapper}`], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(made.stderr);
  writeFileSync(wrapper, readFileSync(wrapper, 'utf8').replace('exec /usr/bin/node /opt/tether/bin/tether.js "$@"', 'echo "node $* in $TETHER_STATE_DIR"'));
  return {
    run: (...args) => {
      const r = spawnSync(wrapper, args, { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` } });
      return { status: r.status, out: r.stdout, err: r.stderr };
    },
  };
}

describe('the tether command install.sh installs', () => {
  it('as root, runs tether pair … <bridge> as that bridge’s user in its own state dir, where its pairings are', () => {
    const host = hostWrapper(['telegram', 'feishu']);
    expect(host.run('pair', 'code', 'telegram')).toEqual({ status: 0, out: 'node pair code telegram in /var/lib/tether-telegram\n', err: expect.stringMatching(/^runuser -u tether-telegram -- env TETHER_STATE_DIR=\/var\/lib\/tether-telegram \S+ pair code telegram\n$/) });
    expect(host.run('pair', 'approve', 'feishu', 'ABCD2345').out).toBe('node pair approve feishu ABCD2345 in /var/lib/tether-feishu\n');
  });

  it('as root, lists every bridge’s pairings one by one, each from its own state dir', () => {
    const r = hostWrapper(['telegram', 'feishu']).run('pair', 'list');
    expect(r.status).toBe(0);
    expect(r.out).toBe('node pair list telegram in /var/lib/tether-telegram\nnode pair list feishu in /var/lib/tether-feishu\n');
  });

  it('as root, runs the rest as tether in /var/lib/tether, and doctor as root', () => {
    const host = hostWrapper(['telegram']);
    expect(host.run('chat')).toMatchObject({ status: 0, out: 'node chat in /var/lib/tether\n', err: expect.stringMatching(/^runuser -u tether -- /) });
    expect(host.run('doctor')).toEqual({ status: 0, out: 'node doctor in /var/lib/tether\n', err: '' });
  });

  it('refuses a bridge this host does not run, naming the ones it does', () => {
    expect(hostWrapper(['telegram']).run('pair', 'code', 'feishu')).toEqual({ status: 1, out: '', err: 'tether: no user tether-feishu on this host: bridges installed here: telegram\n' });
  });
});

describe('install.sh on a host that ran an older install (bridge state in /var/lib/tether)', () => {
  it('moves each bridge’s database, WAL, health file and lock to its own state dir once, with the bridge stopped, and leaves the runtime’s state', () => {
    const script = readFileSync(installScript(base), 'utf8');
    const block = /\n(for b in "\$\{BRIDGES\[@\]\}"; do\n {2}id -u "tether-\$b"[\s\S]*?\ndone)\n/.exec(script)![1]!;
    const root = mkdtempSync(join(dir, 'upgrade-'));
    const lib = join(root, 'var', 'lib');
    const bin = join(root, 'bin');
    mkdirSync(join(lib, 'tether', 'workspace'), { recursive: true });
    mkdirSync(bin);
    const old = ['telegram.db', 'telegram.db-wal', 'telegram.db-shm', 'telegram.health.json', 'telegram-123456789.lock'];
    for (const f of [...old, 'runtime.db', 'runtime.token']) writeFileSync(join(lib, 'tether', f), f);
    const log = join(root, 'log');
    // The host's tools, logged in order: users exist, install -d makes the dir, systemctl stops.
    for (const tool of ['useradd', 'chown', 'systemctl', 'say']) writeFileSync(join(bin, tool), `#!/bin/sh\necho "${tool} $*" >> ${log}\n`, { mode: 0o755 });
    writeFileSync(join(bin, 'id'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    writeFileSync(join(bin, 'install'), `#!/bin/sh\necho "install $*" >> ${log}\nfor last; do :; done\nmkdir -p "$last"\n`, { mode: 0o755 });
    const run = () => spawnSync('bash', ['-c', `set -euo pipefail\nBRIDGES=(telegram feishu)\n${block.replaceAll('/var/lib/', `${lib}/`)}`], { encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin`, HOME: root } });
    const first = run();
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(readdirSync(join(lib, 'tether-telegram')).sort()).toEqual([...old].sort());
    for (const f of old) expect(readFileSync(join(lib, 'tether-telegram', f), 'utf8')).toBe(f);
    expect(readdirSync(join(lib, 'tether')).sort()).toEqual(['runtime.db', 'runtime.token', 'workspace']);
    expect(readdirSync(join(lib, 'tether-feishu'))).toEqual([]);
    const steps = readFileSync(log, 'utf8');
    expect(steps.indexOf('systemctl stop tether-telegram.service')).toBeGreaterThan(-1);
    expect(steps).not.toContain('systemctl stop tether-feishu.service');
    expect(steps).toContain(`chown -R tether-telegram:tether-telegram ${lib}/tether-telegram`);

    // Run again: nothing moves twice, and a newer database in the bridge's dir is never replaced.
    writeFileSync(join(lib, 'tether', 'telegram.db'), 'a stray copy');
    writeFileSync(log, '');
    expect(run().status).toBe(0);
    expect(readFileSync(join(lib, 'tether-telegram', 'telegram.db'), 'utf8')).toBe('telegram.db');
    expect(readFileSync(log, 'utf8')).not.toContain('systemctl stop');
  });
});
