// First end-to-end path: a thread, a turn, the model's streamed text and turn.completed over SSE.
import { afterEach, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../support/runtime.js';
import { openEventStream } from '../support/sse.js';

let rt: TestRuntime | undefined;
afterEach(async () => {
  await rt?.stop();
  rt = undefined;
});

describe('runtime smoke', () => {
  it('runs a turn through the fake model and streams its events', async () => {
    rt = await startTestRuntime();
    const health = await rt.api('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    const created = await rt.api('POST', '/v1/threads', { title: 'hi', metadata: { platform: 'test' } });
    expect(created.status).toBe(201);
    const thread = created.body;
    const stream = await openEventStream(`${rt.url}/v1/threads/${thread.id}/events?after=0`, { authorization: `Bearer ${rt.token}` });
    const posted = await rt.api('POST', `/v1/threads/${thread.id}/turns`, { input: 'hello there' });
    expect(posted.status).toBe(202);
    const done = await stream.waitFor((e) => e.event === 'turn.completed');
    expect(done.data.output).toBe('echo: hello there');
    const types = stream.events.map((e) => e.event);
    expect(types[0]).toBe('thread.created');
    expect(types).toContain('turn.queued');
    expect(types).toContain('turn.started');
    const text = stream.events.filter((e) => e.event === 'message.delta').map((e) => e.data.text).join('');
    expect(text).toBe('echo: hello there');
    const turn = await rt.api('GET', `/v1/threads/${thread.id}/turns/${posted.body.id}`);
    expect(turn.body.status).toBe('completed');
    expect(turn.body.output).toBe('echo: hello there');
    stream.close();
  });
});
