// Turns against a real runtime and the fake model: order, workers, cancel, timeout, idempotency, provider errors.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFakeModel } from '../../fakes/model-server.js';
import { runtimesPerTest } from '../../support/runtime.js';
import type { SseEvent } from '../../support/sse.js';
import { waitUntil } from '../../support/wait.js';

const { runtime, afterTest } = runtimesPerTest();

const seqOf = (events: SseEvent[], type: string, turnId: string) => events.find((e) => e.event === type && e.data.turn_id === turnId)?.data.seq as number;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}


describe('queue', () => {
  it('runs the turns of one thread one at a time, in the order posted', async () => {
    const rt = await runtime({ TETHER_WORKERS: '4' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    const ids: string[] = [];
    for (const word of ['one', 'two', 'three']) {
      const res = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: `!slow 15 ${word} more words` });
      expect(res.status).toBe(202);
      expect(res.body.status).toBe('queued');
      ids.push(res.body.id);
    }
    await stream.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === ids[2]);
    for (let i = 1; i < ids.length; i++) {
      expect(seqOf(stream.events, 'turn.started', ids[i]!)).toBeGreaterThan(seqOf(stream.events, 'turn.completed', ids[i - 1]!));
    }
    const outputs = stream.events.filter((e) => e.event === 'turn.completed').map((e) => e.data.output);
    expect(outputs).toEqual(['one more words', 'two more words', 'three more words']);
    const thread = await rt.api('GET', `/v1/threads/${t.id}`);
    expect(thread.body.turns.map((x: { id: string }) => x.id)).toEqual(ids);
    expect(thread.body.status).toBe('idle');
    stream.close();
  });

  it('runs at most TETHER_WORKERS turns across threads; the rest wait queued', async () => {
    const rt = await runtime({ TETHER_WORKERS: '1' });
    const a = await rt.newThread();
    const b = await rt.newThread();
    const stream = await rt.events();
    rt.model.enqueue({ hang: true });
    const first = await rt.api('POST', `/v1/threads/${a.id}/turns`, { input: 'first' });
    await rt.model.waitForRequests(1);
    const second = await rt.api('POST', `/v1/threads/${b.id}/turns`, { input: 'second' });
    const busy = await rt.api('GET', `/v1/threads/${b.id}/turns/${second.body.id}`);
    expect(busy.body.status).toBe('queued');
    expect((await rt.api('GET', `/v1/threads/${b.id}`)).body.status).toBe('busy');
    const metrics = (await rt.api('GET', '/metrics')).body as string;
    expect(metrics).toMatch(/^tether_queue_depth 1$/m);
    expect(metrics).toMatch(/^tether_running_turns 1$/m);
    expect(rt.model.requests).toHaveLength(1);
    await rt.api('POST', `/v1/threads/${a.id}/turns/${first.body.id}/cancel`);
    await stream.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === second.body.id);
    expect(rt.model.requests).toHaveLength(2);
    stream.close();
  });

  it('runs turns of different threads at the same time when workers allow', async () => {
    const rt = await runtime({ TETHER_WORKERS: '2' });
    const a = await rt.newThread();
    const b = await rt.newThread();
    rt.model.enqueue({ hang: true }, { hang: true });
    await rt.api('POST', `/v1/threads/${a.id}/turns`, { input: 'a' });
    await rt.api('POST', `/v1/threads/${b.id}/turns`, { input: 'b' });
    await rt.model.waitForRequests(2);
    expect((await rt.api('GET', '/metrics')).body).toMatch(/^tether_running_turns 2$/m);
  });
});

describe('cancel', () => {
  it('cancels a queued turn at once; it never reaches the model', async () => {
    const rt = await runtime();
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    rt.model.enqueue({ hang: true });
    const running = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'long one' });
    const queued = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'never asked' });
    await rt.model.waitForRequests(1);
    const cancelled = await rt.api('POST', `/v1/threads/${t.id}/turns/${queued.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    await stream.waitFor((e) => e.event === 'turn.cancelled' && e.data.turn_id === queued.body.id);
    const again = await rt.api('POST', `/v1/threads/${t.id}/turns/${queued.body.id}/cancel`);
    expect(again.status).toBe(409);
    await rt.api('POST', `/v1/threads/${t.id}/turns/${running.body.id}/cancel`);
    await stream.waitFor((e) => e.event === 'turn.cancelled' && e.data.turn_id === running.body.id);
    expect(JSON.stringify(rt.model.requests.map((r) => r.body.messages))).not.toContain('never asked');
    stream.close();
  });

  it('cancels a running turn: the model request is aborted and a running shell command is killed', async () => {
    const rt = await runtime({ TETHER_APPROVAL: 'auto' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    const pidFile = join(rt.workspace, 'sleep.pid');
    const posted = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: `!tool shell ${JSON.stringify({ command: 'sleep 30 & echo $! > sleep.pid; wait' })}` });
    await stream.waitFor((e) => e.event === 'tool.started');
    await waitUntil(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 'the shell wrote its pid');
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    expect(processAlive(pid)).toBe(true);
    const res = await rt.api('POST', `/v1/threads/${t.id}/turns/${posted.body.id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
    await waitUntil(() => !processAlive(pid), 'the sleep process is gone', 5000);
    const ends = stream.events.filter((e) => e.data.turn_id === posted.body.id && /^turn\.(completed|failed|cancelled|interrupted)$/.test(e.event ?? ''));
    expect(ends.map((e) => e.event)).toEqual(['turn.cancelled']);
    stream.close();
  });

  it('cancels a turn whose model is streaming; the partial text stays in the output', async () => {
    const rt = await runtime();
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    const posted = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: '!slow 100 a b c d e f g h i j k l m n o p' });
    await stream.waitFor((e) => e.event === 'message.delta');
    const res = await rt.api('POST', `/v1/threads/${t.id}/turns/${posted.body.id}/cancel`);
    expect(res.body.status).toBe('cancelled');
    expect(res.body.output).toMatch(/^a /);
    expect(res.body.output).not.toMatch(/p$/);
    stream.close();
  });
});

describe('timeout', () => {
  it('fails a turn that runs longer than TETHER_TURN_TIMEOUT_S, saying so', async () => {
    const rt = await runtime({ TETHER_TURN_TIMEOUT_S: '0.5' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    rt.model.enqueue({ hang: true });
    const posted = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'think forever' });
    const failed = await stream.waitFor((e) => e.event === 'turn.failed');
    expect(failed.data.error).toBe('turn ran longer than TETHER_TURN_TIMEOUT_S (0.5 s) and was stopped');
    const turn = await rt.api('GET', `/v1/threads/${t.id}/turns/${posted.body.id}`);
    expect(turn.body).toMatchObject({ status: 'failed', error: failed.data.error });
    expect(turn.body.finished_at).toEqual(expect.any(String));
    stream.close();
  });
});

describe('stop and restart', () => {
  it('a clean stop interrupts the running turn; after a restart the queued one runs', async () => {
    const rt = await runtime({ TETHER_WORKERS: '1' });
    const a = await rt.newThread();
    const b = await rt.newThread();
    rt.model.enqueue({ hang: true });
    const running = await rt.api('POST', `/v1/threads/${a.id}/turns`, { input: 'in flight' });
    await rt.model.waitForRequests(1);
    const queued = await rt.api('POST', `/v1/threads/${b.id}/turns`, { input: 'waiting' });
    await rt.restart();
    const stream = await rt.events(`/v1/events?after=0`);
    await stream.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === queued.body.id);
    const interrupted = stream.events.filter((e) => e.event === 'turn.interrupted');
    expect(interrupted.map((e) => e.data.turn_id)).toEqual([running.body.id]);
    const turn = await rt.api('GET', `/v1/threads/${a.id}/turns/${running.body.id}`);
    expect(turn.body).toMatchObject({ status: 'interrupted', error: expect.stringMatching(/stopped while this turn was running/) });
    stream.close();
  });
});

describe('idempotency', () => {
  it('the same key gives the same turn and no new work, also after a restart; another input with it is 409', async () => {
    const rt = await runtime();
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    const key = { 'idempotency-key': 'telegram:1:100' };
    const first = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'once only' }, key);
    expect(first.status).toBe(202);
    const second = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'once only' }, key);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    const other = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'something else' }, key);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    await stream.waitFor((e) => e.event === 'turn.completed');
    stream.close();
    await rt.restart();
    const afterRestart = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'once only' }, key);
    expect(afterRestart.status).toBe(200);
    expect(afterRestart.body).toMatchObject({ id: first.body.id, status: 'completed', output: 'echo: once only' });
    expect(rt.model.requests).toHaveLength(1);
    const thread = await rt.api('GET', `/v1/threads/${t.id}`);
    expect(thread.body.turns).toHaveLength(1);
    // Keys are per thread: the same key on another thread is a new turn.
    const t2 = await rt.newThread();
    expect((await rt.api('POST', `/v1/threads/${t2.id}/turns`, { input: 'once only' }, key)).status).toBe(202);
  });
});

describe('the agent loop', () => {
  it('runs tool calls and feeds results back until the model answers; output is all its text', async () => {
    const rt = await runtime({ TETHER_APPROVAL: 'auto' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    rt.model.enqueue({ chunks: ['Let me look.'], toolCalls: [{ name: 'list_dir', arguments: {} }], usage: { prompt_tokens: 10, completion_tokens: 3 } }, { chunks: ['Nothing ', 'there.'], usage: { prompt_tokens: 20, completion_tokens: 2 } });
    const posted = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'what is in the workspace?' });
    const done = await stream.waitFor((e) => e.event === 'turn.completed');
    expect(done.data.output).toBe('Let me look.\n\nNothing there.');
    const streamed = stream.events.filter((e) => e.event === 'message.delta').map((e) => e.data.text).join('');
    expect(streamed).toBe(done.data.output);
    const started = stream.events.find((e) => e.event === 'tool.started')!;
    const finished = stream.events.find((e) => e.event === 'tool.finished')!;
    expect(started.data).toMatchObject({ tool: 'list_dir', summary: expect.any(String) });
    expect(finished.data).toMatchObject({ tool: 'list_dir', ok: true, summary: expect.any(String) });
    const second = rt.model.requests[1]!.body;
    const toolMessage = second.messages.at(-1);
    expect(toolMessage.role).toBe('tool');
    expect(second.messages.at(-2).tool_calls[0].function.name).toBe('list_dir');
    expect(second.tools.map((x: { function: { name: string } }) => x.function.name).sort()).toEqual(['list_dir', 'read_file', 'shell', 'write_file']);
    const turn = await rt.api('GET', `/v1/threads/${t.id}/turns/${posted.body.id}`);
    expect(turn.body.usage).toEqual({ prompt_tokens: 30, completion_tokens: 5, total_tokens: 35 });
    stream.close();
  });

  it('tells the model about an unknown tool instead of failing', async () => {
    const rt = await runtime({ TETHER_APPROVAL: 'auto' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: '!tool teleport {"to":"mars"}' });
    const done = await stream.waitFor((e) => e.event === 'turn.completed');
    expect(done.data.output).toMatch(/^done: error: no tool named teleport/);
    stream.close();
  });

  it('stops a model that keeps calling tools after 25 steps', async () => {
    const model = await startFakeModel({ defaultReply: () => ({ toolCalls: [{ name: 'list_dir', arguments: {} }] }) });
    afterTest(() => model.close());
    const rt = await runtime({ TETHER_BASE_URL: model.url, TETHER_APPROVAL: 'auto' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'loop' });
    const failed = await stream.waitFor((e) => e.event === 'turn.failed');
    expect(failed.data.error).toMatch(/asked for tools 25 times/);
    expect(model.requests).toHaveLength(25);
    stream.close();
  });

  it('sends earlier turns as context, dropping the oldest beyond TETHER_CONTEXT_CHARS', async () => {
    const rt = await runtime({ TETHER_CONTEXT_CHARS: '60' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    for (const input of ['first message here', 'second message here', 'third message here']) {
      const res = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input });
      await stream.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === res.body.id);
    }
    const last = rt.model.requests[2]!.body.messages as Array<{ role: string; content: string }>;
    expect(last[0]!.role).toBe('system');
    expect(last[0]!.content).toContain(rt.workspace.split('/').pop());
    // 60 chars hold one earlier pair (input + "echo: " output ≈ 44 chars), not two.
    expect(last.slice(1)).toEqual([
      { role: 'user', content: 'second message here' },
      { role: 'assistant', content: 'echo: second message here' },
      { role: 'user', content: 'third message here' },
    ]);
    stream.close();
  });
});

describe('provider errors', () => {
  it('a provider 401 fails the turn with a sentence naming the key variable', async () => {
    const rt = await runtime({ VLLM_API_KEY: 'wrong-key-123456' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    rt.model.enqueue({ status: 401 });
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'hi' });
    const failed = await stream.waitFor((e) => e.event === 'turn.failed');
    expect(failed.data.error).toMatch(/refused the API key \(401\)/);
    expect(failed.data.error).toMatch(/VLLM_API_KEY/);
    expect(failed.data.error).not.toContain('wrong-key-123456');
    stream.close();
  });

  it('a 429 with a short Retry-After is retried; one with a long Retry-After fails saying when to retry', async () => {
    const rt = await runtime();
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    rt.model.enqueue({ status: 429, retryAfter: '0' });
    const ok = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'patience' });
    const completed = await stream.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === ok.body.id);
    expect(completed.data.output).toBe('echo: patience');
    expect(rt.model.requests).toHaveLength(2);
    rt.model.enqueue({ status: 429, retryAfter: '3600' });
    const no = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'again' });
    const failed = await stream.waitFor((e) => e.event === 'turn.failed' && e.data.turn_id === no.body.id);
    expect(failed.data.error).toMatch(/wait 3600 s/);
    expect(failed.data.error).toMatch(/try again after/);
    stream.close();
  });
});
