// kill -9 of the runtime in the middle of a shell tool: the next start kills what the dead one left running.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel } from '../../fakes/model-server.js';
import { startRuntimeProcess } from '../../support/cli.js';
import { apiRequest } from '../../support/runtime.js';
import { openEventStream } from '../../support/sse.js';
import { waitUntil } from '../../support/wait.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Running, not a zombie: a killed process whose parent died may wait for a reaper that never comes. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}


describe('tool processes across a runtime crash', () => {
  it('a shell command left running by a killed runtime is killed at the next start, and its turn is interrupted', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tether-orphan-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const ws = join(root, 'ws');
    mkdirSync(ws);
    const model = await startFakeModel();
    cleanups.push(() => model.close());
    const env = {
      HOME: root,
      TETHER_STATE_DIR: join(root, 'state'),
      TETHER_WORKSPACE: ws,
      TETHER_PORT: '0',
      TETHER_PROVIDER: 'vllm',
      TETHER_MODEL: 'fake',
      TETHER_BASE_URL: model.url,
      TETHER_APPROVAL: 'auto',
    };
    const first = await startRuntimeProcess(env, root, (fn) => cleanups.push(fn));
    const token = readFileSync(join(root, 'state', 'runtime.token'), 'utf8').trim();
    const thread = (await apiRequest(first.url, token, 'POST', '/v1/threads', {})).body;
    const command = 'sleep 300 & echo $! > sleeper.pid; wait';
    const turn = (await apiRequest(first.url, token, 'POST', `/v1/threads/${thread.id}/turns`, { input: `!tool shell ${JSON.stringify({ command })}` })).body;
    const pidFile = join(ws, 'sleeper.pid');
    await waitUntil(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 'the shell to start its sleeper');
    const sleeper = Number(readFileSync(pidFile, 'utf8').trim());
    cleanups.push(() => {
      if (alive(sleeper)) process.kill(sleeper, 'SIGKILL');
    });

    // The shell can write its pid file before the runtime's rename of the group's record lands; a SIGKILL in that window leaves nothing to reap.
    const records = join(root, 'state', 'tool-processes');
    await waitUntil(() => existsSync(records) && readdirSync(records).some((f) => /^\d+\.json$/.test(f)), 'the runtime to record the shell group');
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    expect(alive(sleeper)).toBe(true); // the crash alone leaves it running

    const second = await startRuntimeProcess(env, root, (fn) => cleanups.push(fn));
    await waitUntil(() => !alive(sleeper), 'the orphaned sleeper to be killed', 20_000);
    const stream = await openEventStream(`${second.url}/v1/events?after=0`, { authorization: `Bearer ${token}` });
    cleanups.push(() => stream.close());
    const interrupted = await stream.waitFor((e) => e.event === 'turn.interrupted');
    expect(interrupted.data.turn_id).toBe(turn.id);
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  });
});
