// Every command refuses an unknown option or an extra argument in one line naming it, before doing anything.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandArgs, shownArgument } from '../../cli/args.js';
import { runCli } from '../support/cli.js';

const stateDir = mkdtempSync(join(tmpdir(), 'tether-args-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

describe('tether <command> with arguments it does not take', () => {
  it.each([
    [['up', '--bogus'], "tether up: unknown option '--bogus': run tether up --help"],
    [['runtime', 'extra'], 'tether runtime: unexpected argument "extra": tether runtime takes no arguments: run tether runtime --help'],
    [['telegram', '--bogus'], "tether telegram: unknown option '--bogus': run tether telegram --help"],
    [['feishu', '--fast=yes'], "tether feishu: unknown option '--fast': run tether feishu --help"],
    [['chat', '--thread'], "tether chat: option '--thread <value>' argument missing: run tether chat --help"],
    [['pair', 'list', 'telegram', 'extra'], 'tether pair: unexpected argument "extra": tether pair list takes at most 1 argument: run tether pair list --help'],
    [['pair', 'revoke', 'telegram', '42', 'more'], 'tether pair: unexpected argument "more": tether pair revoke takes at most 2 arguments: run tether pair revoke --help'],
  ])('%j is refused in one line and starts nothing', async (args, line) => {
    // TELEGRAM_BOT_TOKEN set: before, `tether up --bogus` and `tether runtime extra` started silently.
    const res = await runCli(args, { env: { TETHER_STATE_DIR: stateDir, TETHER_PORT: '0', TELEGRAM_BOT_TOKEN: '123456789:AAHfakeTokenfakeTokenfakeTokenfake12' }, timeoutMs: 10_000 });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`${line}\n`);
    expect(res.stdout).toBe('');
    expect(readdirSync(stateDir)).toEqual([]);
  });

  it('--help still works beside the options a command takes', async () => {
    const res = await runCli(['up', '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Usage: tether up');
  });
});

describe('commandArgs', () => {
  it('returns the declared options and positionals', () => {
    expect(commandArgs(['--thread', 't1'], 'chat', { thread: { type: 'string' } })).toEqual({ values: { thread: 't1' }, positionals: [], help: false });
    expect(commandArgs(['telegram', '42'], 'pair revoke', {}, 2)).toEqual({ values: {}, positionals: ['telegram', '42'], help: false });
    expect(commandArgs(['-h', 'anything'], 'up').help).toBe(true);
  });

  it('takes a negative number for an id, not for options (a Telegram group is -100…)', () => {
    expect(commandArgs(['telegram', '-1001234567890'], 'pair revoke', {}, 2).positionals).toEqual(['telegram', '-1001234567890']);
    expect(commandArgs(['--thread', '-42'], 'chat', { thread: { type: 'string' } }).values).toEqual({ thread: '-42' });
    expect(() => commandArgs(['-x'], 'up')).toThrow("unknown option '-x'");
  });

  it('shows a long stray argument by its start and length only: a token pasted in the wrong place is not printed back', () => {
    expect(shownArgument('short')).toBe('"short"');
    expect(shownArgument('123456789:AAHfakeTokenfakeTokenfakeTokenfake12')).toBe('"12345678…" (46 characters)');
  });
});
