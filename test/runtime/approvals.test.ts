// Approvals against a real runtime: ask waits for a person, auto runs, readonly offers no risky tool, restarts keep waiting.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DENIED_RESULT } from '../../runtime/approvals.js';
import { runtimesPerTest } from '../support/runtime.js';

const { runtime } = runtimesPerTest();

const writeNote = `!tool write_file ${JSON.stringify({ path: 'note.txt', content: 'hello from the agent' })}`;

describe('approval ask', () => {
  it('waits for a person before a write; approve runs it and the turn completes', async () => {
    const rt = await runtime();
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    const posted = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: writeNote });
    const requested = await stream.waitFor((e) => e.event === 'approval.requested');
    expect(requested.data).toMatchObject({ tool: 'write_file', approval_id: expect.stringMatching(/^apr_/), turn_id: posted.body.id });
    expect(requested.data.summary).toContain('note.txt');
    const pending = await rt.api('GET', `/v1/approvals?thread_id=${t.id}&status=pending`);
    expect(pending.body.approvals).toEqual([expect.objectContaining({ id: requested.data.approval_id, tool: 'write_file', status: 'pending', turn_id: posted.body.id })]);
    const waiting = await rt.api('GET', `/v1/threads/${t.id}/turns/${posted.body.id}`);
    expect(waiting.body.status).toBe('awaiting_approval');
    expect(existsSync(join(rt.workspace, 'note.txt'))).toBe(false);
    expect(stream.events.some((e) => e.event === 'tool.started')).toBe(false);

    const decided = await rt.api('POST', `/v1/approvals/${requested.data.approval_id}`, { decision: 'approve' });
    expect(decided.status).toBe(200);
    const resolved = await stream.waitFor((e) => e.event === 'approval.resolved');
    expect(resolved.data).toMatchObject({ approval_id: requested.data.approval_id, decision: 'approve' });
    const done = await stream.waitFor((e) => e.event === 'turn.completed');
    expect(readFileSync(join(rt.workspace, 'note.txt'), 'utf8')).toBe('hello from the agent');
    expect(done.data.output).toMatch(/^done: /);
    expect(stream.events.find((e) => e.event === 'tool.finished')!.data.ok).toBe(true);

    const twice = await rt.api('POST', `/v1/approvals/${requested.data.approval_id}`, { decision: 'deny' });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('approval_decided');
    expect((await rt.api('GET', `/v1/approvals/${requested.data.approval_id}`)).body).toMatchObject({ status: 'approved', decided_at: expect.any(String) });
    expect((await rt.api('POST', `/v1/approvals/${requested.data.approval_id}`, { decision: 'maybe' })).status).toBe(400);
    stream.close();
  });

  it('deny: the tool never runs and the model is told the person denied it', async () => {
    const rt = await runtime();
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: `!tool shell ${JSON.stringify({ command: 'touch ran.txt' })}` });
    const requested = await stream.waitFor((e) => e.event === 'approval.requested');
    expect(requested.data.summary).toContain('touch ran.txt');
    await rt.api('POST', `/v1/approvals/${requested.data.approval_id}`, { decision: 'deny' });
    await stream.waitFor((e) => e.event === 'turn.completed');
    expect(existsSync(join(rt.workspace, 'ran.txt'))).toBe(false);
    expect(stream.events.some((e) => e.event === 'tool.started')).toBe(false);
    const told = rt.model.requests[1]!.body.messages.at(-1);
    expect(told).toMatchObject({ role: 'tool', content: DENIED_RESULT });
    stream.close();
  });

  it('does not ask for read-only tools', async () => {
    const rt = await runtime();
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: '!tool list_dir {}' });
    await stream.waitFor((e) => e.event === 'turn.completed');
    expect(stream.events.some((e) => e.event === 'approval.requested')).toBe(false);
    stream.close();
  });

  it('a turn waiting for a person frees its worker: other threads keep running', async () => {
    const rt = await runtime({ TETHER_WORKERS: '1' });
    const a = await rt.newThread();
    const b = await rt.newThread();
    const stream = await rt.events();
    await rt.api('POST', `/v1/threads/${a.id}/turns`, { input: writeNote });
    await stream.waitFor((e) => e.event === 'approval.requested');
    const other = await rt.api('POST', `/v1/threads/${b.id}/turns`, { input: 'meanwhile' });
    await stream.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === other.body.id);
    // …while the waiting thread's next turn stays behind it.
    const later = await rt.api('POST', `/v1/threads/${a.id}/turns`, { input: 'after the write' });
    expect((await rt.api('GET', `/v1/threads/${a.id}/turns/${later.body.id}`)).body.status).toBe('queued');
    stream.close();
  });

  it('cancelling a turn that waits for a person cancels it and expires the approval', async () => {
    const rt = await runtime();
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    const posted = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: writeNote });
    const requested = await stream.waitFor((e) => e.event === 'approval.requested');
    const cancelled = await rt.api('POST', `/v1/threads/${t.id}/turns/${posted.body.id}/cancel`);
    expect(cancelled.body.status).toBe('cancelled');
    await stream.waitFor((e) => e.event === 'turn.cancelled');
    const late = await rt.api('POST', `/v1/approvals/${requested.data.approval_id}`, { decision: 'approve' });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('approval_expired');
    expect(existsSync(join(rt.workspace, 'note.txt'))).toBe(false);
    // The thread is free again.
    const next = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'next' });
    await stream.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === next.body.id);
    stream.close();
  });

  it('a turn waiting for a person survives a restart and resumes when decided', async () => {
    const rt = await runtime();
    const t = await rt.newThread();
    let stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    const posted = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: writeNote });
    const requested = await stream.waitFor((e) => e.event === 'approval.requested');
    stream.close();
    await rt.restart();
    expect((await rt.api('GET', `/v1/threads/${t.id}/turns/${posted.body.id}`)).body.status).toBe('awaiting_approval');
    stream = await rt.events(`/v1/threads/${t.id}/events?after=${requested.data.seq}`);
    await rt.api('POST', `/v1/approvals/${requested.data.approval_id}`, { decision: 'approve' });
    const done = await stream.waitFor((e) => e.event === 'turn.completed');
    expect(done.data.turn_id).toBe(posted.body.id);
    expect(readFileSync(join(rt.workspace, 'note.txt'), 'utf8')).toBe('hello from the agent');
    expect(stream.events.some((e) => e.event === 'turn.interrupted')).toBe(false);
    stream.close();
  });
});

describe('approval modes', () => {
  it('auto runs risky tools without asking', async () => {
    const rt = await runtime({ TETHER_APPROVAL: 'auto' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: writeNote });
    await stream.waitFor((e) => e.event === 'turn.completed');
    expect(stream.events.some((e) => e.event === 'approval.requested')).toBe(false);
    expect(readFileSync(join(rt.workspace, 'note.txt'), 'utf8')).toBe('hello from the agent');
    stream.close();
  });

  it('a thread’s own approval overrides TETHER_APPROVAL', async () => {
    const rt = await runtime({ TETHER_APPROVAL: 'ask' });
    const t = await rt.newThread({ approval: 'auto' });
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: writeNote });
    await stream.waitFor((e) => e.event === 'turn.completed');
    expect(stream.events.some((e) => e.event === 'approval.requested')).toBe(false);
    expect(existsSync(join(rt.workspace, 'note.txt'))).toBe(true);
    stream.close();
  });

  it('readonly offers only read-only tools and refuses a write the model asks for anyway', async () => {
    const rt = await runtime({ TETHER_APPROVAL: 'readonly' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: writeNote });
    const done = await stream.waitFor((e) => e.event === 'turn.completed');
    const offered = rt.model.requests[0]!.body.tools.map((x: { function: { name: string } }) => x.function.name).sort();
    expect(offered).toEqual(['list_dir', 'read_file']);
    expect(done.data.output).toMatch(/not run: this conversation is read-only now/);
    expect(existsSync(join(rt.workspace, 'note.txt'))).toBe(false);
    expect(stream.events.some((e) => e.event === 'approval.requested')).toBe(false);
    stream.close();
  });
});
