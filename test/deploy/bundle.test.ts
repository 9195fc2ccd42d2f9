// The bundle as rendered from answers: which secret goes to which file, every bridge row's files, env-file quoting, templates filled whole.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BRIDGES, BRIDGE_SLUGS } from '../../lib/bridges.js';
import { SECRET_VARIABLES } from '../../lib/secret-variables.js';
import { renderBundle, type SetupAnswers } from '../../deploy/bundle.js';
import { parseEnvFile, renderEnvFile } from '../../deploy/env-file.js';
import { unitsDir } from '../../deploy/package-files.js';
import { TARGET_NAMES, TARGETS } from '../../deploy/targets.js';
import { fillTemplate } from '../../deploy/template.js';

const TOKEN = 'runtime-token-0123456789abcdefghijklmnopqrstu';
const answers: SetupAnswers = {
  target: 'vps',
  bridges: ['telegram', 'feishu'],
  provider: 'deepseek',
  runtimeSettings: { TETHER_PORT: '7979' },
  providerKey: { variable: 'DEEPSEEK_API_KEY', value: 'sk-deepseek-secret-000000000000' },
  bridgeValues: {
    telegram: { TELEGRAM_BOT_TOKEN: '123456789:AAfakeTokenForTestsOnly_abcdefghijklmnop', TELEGRAM_ALLOWLIST: '1001' },
    feishu: { FEISHU_APP_ID: 'cli_0123456789abcdef', FEISHU_APP_SECRET: 'feishu-app-secret-0000000000000', FEISHU_DOMAIN: 'lark' },
  },
  token: TOKEN,
};
const context = { nodeVersion: '20.19.5', writtenAt: '2026-01-01T00:00:00.000Z' };

function file(files: ReturnType<typeof renderBundle>, path: string): string {
  const f = files.find((x) => x.path === path);
  if (!f) throw new Error(`no ${path} in ${files.map((x) => x.path).join(', ')}`);
  return f.content;
}

describe('renderBundle', () => {
  const files = renderBundle(answers, context);

  it('gives each bridge its own env file with its credentials and the runtime token, never the model key or another bridge’s secret', () => {
    expect(parseEnvFile(file(files, 'runtime.env'))).toEqual({ TETHER_PROVIDER: 'deepseek', TETHER_PORT: '7979', DEEPSEEK_API_KEY: 'sk-deepseek-secret-000000000000', TETHER_TOKEN: TOKEN });
    expect(parseEnvFile(file(files, 'telegram.env'))).toEqual({ TETHER_TOKEN: TOKEN, TETHER_RUNTIME_URL: 'http://127.0.0.1:7979', TELEGRAM_BOT_TOKEN: answers.bridgeValues.telegram!.TELEGRAM_BOT_TOKEN, TELEGRAM_ALLOWLIST: '1001' });
    expect(parseEnvFile(file(files, 'feishu.env'))).toEqual({ TETHER_TOKEN: TOKEN, TETHER_RUNTIME_URL: 'http://127.0.0.1:7979', FEISHU_APP_ID: 'cli_0123456789abcdef', FEISHU_APP_SECRET: 'feishu-app-secret-0000000000000', FEISHU_DOMAIN: 'lark' });
    for (const f of files.filter((x) => x.path.endsWith('.env'))) expect(f.mode).toBe(0o600);
  });

  it('carries the Feishu row: its unit, its env file installed and its unit enabled by install.sh', () => {
    expect(files.map((f) => f.path)).toEqual(['runtime.env', 'telegram.env', 'feishu.env', 'units/tether-runtime.service', 'units/tether-telegram.service', 'units/tether-feishu.service', 'install.sh', 'RUNBOOK.md']);
    expect(file(files, 'units/tether-feishu.service')).toContain('ExecStart=/usr/bin/node /opt/tether/bin/tether.js feishu');
    const install = file(files, 'install.sh');
    expect(install).toContain('ENV_FILES=(runtime.env telegram.env feishu.env)');
    expect(install).toContain('BRIDGE_UNITS=(tether-telegram.service tether-feishu.service)');
    expect(install).toContain('BRIDGES=(telegram feishu)');
    expect(install).toContain('RUNTIME_HEALTH_URL="http://127.0.0.1:7979/health"');
    expect(install).not.toMatch(/\{\{/);
    const runbook = file(files, 'RUNBOOK.md');
    expect(runbook).toContain('Bridges: Telegram, Feishu / Lark.');
    expect(runbook).toContain('sudo tether pair code feishu');
    // The bridge's pairings are in its own state dir, owned by its own user: the command says where.
    expect(runbook).toContain('sudo runuser -u tether-feishu -- env TETHER_STATE_DIR=/var/lib/tether-feishu /usr/bin/node /opt/tether/bin/tether.js pair code feishu');
    expect(runbook).toContain('systemctl status tether-runtime tether-telegram tether-feishu');
  });

  it('no secret reaches a file that is not an env file', () => {
    const secrets = [TOKEN, answers.providerKey!.value, ...Object.values(answers.bridgeValues).flatMap((v) => Object.entries(v!).filter(([k]) => SECRET_VARIABLES[k]?.redact).map(([, s]) => s))];
    expect(secrets).toHaveLength(4);
    for (const f of files.filter((x) => !x.path.endsWith('.env'))) for (const s of secrets) expect(f.content).not.toContain(s);
  });

  it.each(TARGET_NAMES)('target %s: cloud-init.yaml exactly where the target takes one, and its own RUNBOOK steps', (target) => {
    const rendered = renderBundle({ ...answers, target }, context);
    expect(rendered.some((f) => f.path === 'cloud-init.yaml')).toBe(TARGETS[target].cloudInit);
    expect(file(rendered, 'RUNBOOK.md')).toContain(`# RUNBOOK: Tether on ${TARGETS[target].name}`);
    for (const f of rendered) expect(f.content).not.toMatch(/\{\{[A-Z_]+\}\}/);
  });

  it('the azure cloud-init fetches every env file from the vault and holds no secret', () => {
    const cloudInit = file(renderBundle({ ...answers, target: 'azure' }, context), 'cloud-init.yaml');
    expect(cloudInit.startsWith('#cloud-config\n')).toBe(true);
    expect(cloudInit).toContain('for f in runtime.env telegram.env feishu.env; do');
    expect(cloudInit).not.toContain(TOKEN);
  });
});

describe('the bridges table', () => {
  it.each(BRIDGE_SLUGS)('%s: its unit is in systemd/, runs tether %s with its own env file, and its credentials are known secrets', (slug) => {
    const row = BRIDGES[slug];
    expect(existsSync(`${unitsDir()}${row.unit}`)).toBe(true);
    for (const name of row.credentials) expect(Object.hasOwn(SECRET_VARIABLES, name)).toBe(true);
    expect(row.setupHint.length).toBeGreaterThan(10);
  });
});

describe('env files', () => {
  it('quote only what needs it and read back the same with dotenv', () => {
    const text = renderEnvFile(['a header'], [
      ['PLAIN', 'abc:DEF_123-./'],
      ['SPACED', 'two words'],
      ['DOLLAR', 'a$b'],
    ]);
    expect(text).toBe("# a header\nPLAIN=abc:DEF_123-./\nSPACED='two words'\nDOLLAR='a$b'\n");
    expect(parseEnvFile(text)).toEqual({ PLAIN: 'abc:DEF_123-./', SPACED: 'two words', DOLLAR: 'a$b' });
  });

  it.each([["it's"], ['line\nbreak'], ['bell\u0007']])('refuse a value that cannot be written safely (%j), without showing it', (value) => {
    expect(() => renderEnvFile([], [['TELEGRAM_BOT_TOKEN', value]])).toThrow(/^the value of TELEGRAM_BOT_TOKEN has a quote, a line break or a control character/);
    try {
      renderEnvFile([], [['TELEGRAM_BOT_TOKEN', value]]);
    } catch (err) {
      expect((err as Error).message).not.toContain(value);
    }
  });
});

describe('templates', () => {
  it('refuse a placeholder without a value and a value without a placeholder', () => {
    expect(fillTemplate('t', 'a {{X}} b', { X: '1' })).toBe('a 1 b');
    expect(() => fillTemplate('t', 'a {{X}} {{Y}}', { X: '1' })).toThrow('template t needs a value for {{Y}}');
    expect(() => fillTemplate('t', 'a {{X}}', { X: '1', Z: '2' })).toThrow('template t has no {{Z}}');
  });
});
