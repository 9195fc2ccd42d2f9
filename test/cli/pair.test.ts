// `tether pair` as a person runs it: codes, list, approve, revoke on a bridge database, one-line errors.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openAccessRequest } from '../../bridges/core/enrolment.js';
import { BridgeStore } from '../../bridges/core/store.js';
import { runCli, spawnCli } from '../support/cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function stateDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tether-pair-'));
  dirs.push(d);
  return d;
}

describe('tether pair', () => {
  it('mints a code, approves a request, lists and revokes, and explains mistakes in one line', async () => {
    const dir = stateDir();
    const env = { TETHER_STATE_DIR: dir };
    const code = await runCli(['pair', 'code', 'telegram'], { env });
    expect(code.code).toBe(0);
    expect(code.stdout).toMatch(/Pairing code for telegram: [2-9A-HJKMNP-Z]{8}\n/);
    expect(code.stdout).toContain('/pair ');

    const store = BridgeStore.open(dir, 'telegram');
    const request = openAccessRequest(store, { ref: { platform: 'telegram', chatId: '777', kind: 'private' }, senderId: '777', senderName: 'Friend', now: Date.now() });
    store.close();
    if (request.kind !== 'opened') throw new Error('request not opened');

    const listed = await runCli(['pair', 'list'], { env });
    expect(listed.stdout).toContain('request from Friend (id 777)');
    expect(listed.stdout).toContain('1 unused pairing code');

    const approved = await runCli(['pair', 'approve', 'telegram', request.code.toLowerCase()], { env });
    expect(approved.code).toBe(0);
    expect(approved.stdout).toContain('Approved telegram user Friend (id 777)');
    const again = await runCli(['pair', 'approve', 'telegram', request.code], { env });
    expect(again.code).toBe(1);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toContain('no open telegram request has the code');

    const after = await runCli(['pair', 'list', 'telegram'], { env });
    expect(after.stdout).toMatch(/user\s+777\s+user/);
    const revoked = await runCli(['pair', 'revoke', 'telegram', '777'], { env });
    expect(revoked.code).toBe(0);
    const twice = await runCli(['pair', 'revoke', 'telegram', '777'], { env });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('777 is not a paired telegram id');

    const bad = await runCli(['pair', 'code', 'icq'], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^tether pair: unknown platform "icq", expected one of telegram\|feishu\|slack\|discord: run tether pair code --help\n$/);
    const help = await runCli(['pair', 'approve', '--help'], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: tether pair approve <platform> <CODE>');
  });

  it('ends quietly when its output is closed early (tether pair code telegram | head -1)', async () => {
    const child = spawnCli(['pair', 'code', 'telegram'], { env: { TETHER_STATE_DIR: stateDir() } });
    // The reader is gone before the command writes: its first line meets EPIPE.
    child.stdout!.destroy();
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
