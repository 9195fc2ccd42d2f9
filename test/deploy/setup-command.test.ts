// `tether setup` as a user runs it: flags, secrets from the environment or stdin, the bundle on disk, refusals that write nothing.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../deploy/env-file.js';
import { runCli } from '../support/cli.js';

const BOT_TOKEN = '123456789:AAfakeTokenForTestsOnly_abcdefghijklmnop';
const OPENAI_KEY = 'sk-test-0123456789abcdefghijklmnop';
const VPS = ['setup', '--non-interactive', '--target', 'vps', '--bridge', 'telegram', '--provider', 'openai'];

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tether-setup-'));
  dirs.push(d);
  return d;
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('tether setup --non-interactive', () => {
  it('writes a complete vps bundle: env files 0600 with the secrets split, units, install.sh, RUNBOOK, the app', async () => {
    const root = tempDir();
    const out = join(root, 'bundle');
    const r = await runCli([...VPS, '--out', out], { env: { TELEGRAM_BOT_TOKEN: BOT_TOKEN, OPENAI_API_KEY: OPENAI_KEY }, cwd: root });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['RUNBOOK.md', 'app', 'install.sh', 'runtime.env', 'telegram.env', 'units']);
    expect(readdirSync(join(out, 'units')).sort()).toEqual(['tether-runtime.service', 'tether-telegram.service']);
    expect(mode(out)).toBe(0o700);
    expect(mode(join(out, 'runtime.env'))).toBe(0o600);
    expect(mode(join(out, 'telegram.env'))).toBe(0o600);
    expect(mode(join(out, 'install.sh'))).toBe(0o755);
    expect(existsSync(join(out, 'app', 'dist', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(out, 'app', 'package-lock.json'))).toBe(true);
    expect(existsSync(join(out, 'app', 'deploy', 'templates', 'install.sh'))).toBe(true);

    const runtimeEnv = parseEnvFile(readFileSync(join(out, 'runtime.env'), 'utf8'));
    const telegramEnv = parseEnvFile(readFileSync(join(out, 'telegram.env'), 'utf8'));
    expect(runtimeEnv).toEqual({ TETHER_PROVIDER: 'openai', OPENAI_API_KEY: OPENAI_KEY, TETHER_TOKEN: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(telegramEnv).toEqual({ TETHER_TOKEN: runtimeEnv.TETHER_TOKEN, TELEGRAM_BOT_TOKEN: BOT_TOKEN });
    // Secrets are in files only: not in what was printed, not in the units or the scripts.
    for (const text of [r.stdout, readFileSync(join(out, 'install.sh'), 'utf8'), readFileSync(join(out, 'RUNBOOK.md'), 'utf8'), ...readdirSync(join(out, 'units')).map((u) => readFileSync(join(out, 'units', u), 'utf8'))]) {
      for (const secret of [BOT_TOKEN, OPENAI_KEY, runtimeEnv.TETHER_TOKEN!]) expect(text).not.toContain(secret);
    }
  });

  it('without TELEGRAM_BOT_TOKEN it fails naming it and writes nothing', async () => {
    const root = tempDir();
    const out = join(root, 'bundle');
    const r = await runCli([...VPS, '--out', out], { env: { OPENAI_API_KEY: OPENAI_KEY }, cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tether setup: --non-interactive and nothing written: missing TELEGRAM_BOT_TOKEN \(create a bot with @BotFather; .*never as an argument\)$/)]);
    expect(readdirSync(root)).toEqual([]);
    expect(r.stderr).not.toContain(OPENAI_KEY);
  });

  it('names every missing value at once, flags and secrets alike', async () => {
    const root = tempDir();
    const r = await runCli(['setup', '--non-interactive', '--bridge', 'telegram', '--provider', 'deepseek'], { env: {}, cwd: root });
    expect(r.code).toBe(1);
    const line = r.stderr.trim();
    for (const name of ['--target', 'DEEPSEEK_API_KEY', 'TELEGRAM_BOT_TOKEN', '--out']) expect(line).toContain(name);
    expect(readdirSync(root)).toEqual([]);
  });

  it('a local model server needs no key, but one without a default model needs --model', async () => {
    const root = tempDir();
    const r = await runCli(['setup', '--non-interactive', '--target', 'vps', '--bridge', 'telegram', '--provider', 'vllm', '--out', join(root, 'b')], { env: { TELEGRAM_BOT_TOKEN: BOT_TOKEN }, cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing --model \(vllm serves whatever model/);
    expect(r.stderr).not.toMatch(/API_KEY/);
    const ok = await runCli(['setup', '--non-interactive', '--target', 'vps', '--bridge', 'telegram', '--provider', 'vllm', '--model', 'qwen3', '--out', join(root, 'b')], { env: { TELEGRAM_BOT_TOKEN: BOT_TOKEN }, cwd: root });
    expect(ok.code).toBe(0);
    expect(parseEnvFile(readFileSync(join(root, 'b', 'runtime.env'), 'utf8'))).toMatchObject({ TETHER_PROVIDER: 'vllm', TETHER_MODEL: 'qwen3' });
  });

  it('takes secrets from stdin with --secrets-stdin, over the environment', async () => {
    const root = tempDir();
    const out = join(root, 'bundle');
    const r = await runCli([...VPS, '--secrets-stdin', '--out', out], { env: { OPENAI_API_KEY: 'sk-from-the-environment-000000' }, input: `TELEGRAM_BOT_TOKEN=${BOT_TOKEN}\nOPENAI_API_KEY=${OPENAI_KEY}\n`, cwd: root });
    expect(r.stderr).toBe('');
    expect(parseEnvFile(readFileSync(join(out, 'runtime.env'), 'utf8')).OPENAI_API_KEY).toBe(OPENAI_KEY);
    expect(parseEnvFile(readFileSync(join(out, 'telegram.env'), 'utf8')).TELEGRAM_BOT_TOKEN).toBe(BOT_TOKEN);
  });

  it('a malformed bot token is refused as the bridge would refuse it, masked, and nothing is written', async () => {
    const root = tempDir();
    const bad = 'not-a-telegram-token-but-long-enough';
    const r = await runCli([...VPS, '--out', join(root, 'b')], { env: { TELEGRAM_BOT_TOKEN: bad, OPENAI_API_KEY: OPENAI_KEY }, cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tether setup: TELEGRAM_BOT_TOKEN is not…\(36 chars\), expected a token like/);
    expect(r.stderr).not.toContain(bad);
    expect(readdirSync(root)).toEqual([]);
  });

  it('does not replace an existing bundle without --force, and replaces it with --force', async () => {
    const root = tempDir();
    const out = join(root, 'bundle');
    mkdirSync(out);
    writeFileSync(join(out, 'runtime.env'), 'TETHER_TOKEN=the-old-one-000000000000\n');
    const env = { TELEGRAM_BOT_TOKEN: BOT_TOKEN, OPENAI_API_KEY: OPENAI_KEY };
    const refused = await runCli([...VPS, '--out', out], { env, cwd: root });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already exists; nothing written: pass --force/);
    expect(readdirSync(out)).toEqual(['runtime.env']);
    const forced = await runCli([...VPS, '--out', out, '--force'], { env, cwd: root });
    expect(forced.code).toBe(0);
    expect(readFileSync(join(out, 'runtime.env'), 'utf8')).not.toContain('the-old-one');
    expect(readdirSync(root)).toEqual(['bundle']);
  });
});

describe('tether setup refuses secrets and strays in argv without echoing them', () => {
  it.each([
    [['--token', BOT_TOKEN], /unknown option --token/],
    [[`--telegram-bot-token=${BOT_TOKEN}`], /unknown option --telegram-bot-token/],
    [[BOT_TOKEN], /unexpected argument #\d+ \(not shown: it may be a secret\)/],
    [['--provider', OPENAI_KEY], /unknown --provider \(not shown\)/],
    [['--bridge', 'matrix'], /unknown --bridge "matrix", expected telegram, feishu/],
    [['--target', 'gcp'], /unknown --target "gcp", expected one of vps, azure, lighthouse/],
    [['--out'], /--out needs a value/],
  ])('%j', async (extra, message) => {
    const root = tempDir();
    const r = await runCli(['setup', '--non-interactive', ...extra], { env: {}, cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain(BOT_TOKEN);
    expect(r.stderr).not.toContain(OPENAI_KEY);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(readdirSync(root)).toEqual([]);
  });
});

describe('tether setup as a wizard', () => {
  it('asks for what flags and the environment did not give, the secret without echo, and writes the bundle', async () => {
    const root = tempDir();
    const answers = ['1', '1', 'openai', OPENAI_KEY, BOT_TOKEN, '1001, 1002', join(root, 'wizard')].join('\n') + '\n';
    const r = await runCli(['setup'], { env: {}, input: answers, cwd: root });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Where will Tether run?');
    expect(r.stderr).toContain('OPENAI_API_KEY (the openai API key, not shown)');
    expect(r.stderr + r.stdout).not.toContain(OPENAI_KEY);
    expect(r.stderr + r.stdout).not.toContain(BOT_TOKEN);
    expect(parseEnvFile(readFileSync(join(root, 'wizard', 'telegram.env'), 'utf8'))).toMatchObject({ TELEGRAM_BOT_TOKEN: BOT_TOKEN, TELEGRAM_ALLOWLIST: '1001, 1002' });
  });

  it('asks before replacing an existing bundle; no keeps it', async () => {
    const root = tempDir();
    const out = join(root, 'bundle');
    mkdirSync(out);
    writeFileSync(join(out, 'keep'), 'x');
    const r = await runCli(['setup', '--target', 'vps', '--bridge', 'telegram', '--provider', 'openai', '--out', out], { env: { TELEGRAM_BOT_TOKEN: BOT_TOKEN, OPENAI_API_KEY: OPENAI_KEY, TELEGRAM_ALLOWLIST: '1001' }, input: 'n\n', cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('already exists. Replace it');
    expect(readdirSync(out)).toEqual(['keep']);
  });

  it('input that ends before an answer is one clear line, and nothing is written', async () => {
    const root = tempDir();
    const r = await runCli(['setup', '--target', 'vps'], { env: {}, input: '1\n', cwd: root });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/tether setup: no answer to ".*": the input ended/);
    expect(readdirSync(root)).toEqual([]);
  });
});
