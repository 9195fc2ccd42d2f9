// The generated install.sh: valid bash, clean under ShellCheck, and free of secrets, for every target and bridge set.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
