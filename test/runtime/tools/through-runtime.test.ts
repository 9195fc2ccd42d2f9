// The tools as a user meets them: a real runtime and fake model, approvals in ask mode, refusals, readonly, shell limits.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { processIsGone, waitUntil } from './workspace.js';

const runtimes: TestRuntime[] = [];
afterEach(async () => {
  for (const rt of runtimes.splice(0)) await rt.stop();
});
async function runtime(env: Record<string, string>): Promise<TestRuntime> {
  const rt = await startTestRuntime(env);
  runtimes.push(rt);
  return rt;
}
const toolCall = (name: string, args: unknown) => `!tool ${name} ${JSON.stringify(args)}`;

describe('tools through the runtime', () => {
  it('asks before a write with a summary a person can judge, and writes only after approval', async () => {
    const rt = await runtime({ TETHER_APPROVAL: 'ask' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: toolCall('write_file', { path: 'notes/todo.md', content: '# Todo\n- milk\n' }) });
    const asked = await stream.waitFor((e) => e.event === 'approval.requested');
    expect(asked.data).toMatchObject({ tool: 'write_file', summary: 'write notes/todo.md (2 lines, 14 bytes): # Todo' });
    const file = join(rt.workspace, 'notes', 'todo.md');
    expect(existsSync(file)).toBe(false);
    expect((await rt.api('POST', `/v1/approvals/${asked.data.approval_id}`, { decision: 'approve' })).status).toBe(200);
    const finished = await stream.waitFor((e) => e.event === 'tool.finished');
    expect(finished.data).toEqual(expect.objectContaining({ tool: 'write_file', ok: true, summary: 'created notes/todo.md (2 lines, 14 B)' }));
    expect(readFileSync(file, 'utf8')).toBe('# Todo\n- milk\n');
    await stream.waitFor((e) => e.event === 'turn.completed');
    stream.close();
  });

  it('tells the model a path is outside the workspace, and the turn goes on', async () => {
    const rt = await runtime({ TETHER_APPROVAL: 'auto' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: toolCall('read_file', { path: '../state/runtime.token' }) });
    const finished = await stream.waitFor((e) => e.event === 'tool.finished');
    expect(finished.data).toMatchObject({ tool: 'read_file', ok: false, summary: 'read ../state/runtime.token: path ../state/runtime.token is outside the workspace' });
    await stream.waitFor((e) => e.event === 'turn.completed');
    const toolMessage = rt.model.requests[1]?.body.messages.at(-1);
    expect(toolMessage).toMatchObject({ role: 'tool', content: expect.stringMatching(/^path \.\.\/state\/runtime\.token is outside the workspace; use a path relative/) });
    expect(toolMessage.content).not.toContain(rt.token);
    stream.close();
  });

  it('offers only the readers in readonly mode', async () => {
    const rt = await runtime({ TETHER_APPROVAL: 'readonly' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: toolCall('shell', { command: 'touch pwned' }) });
    await stream.waitFor((e) => e.event === 'turn.completed');
    expect(rt.model.requests[0]?.body.tools.map((x: { function: { name: string } }) => x.function.name)).toEqual(['read_file', 'list_dir']);
    expect(existsSync(join(rt.workspace, 'pwned'))).toBe(false);
    stream.close();
  });

  it('kills a shell command and its children at TETHER_SHELL_TIMEOUT_S and tells the model', async () => {
    const rt = await runtime({ TETHER_APPROVAL: 'auto', TETHER_SHELL_TIMEOUT_S: '0.3' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: toolCall('shell', { command: 'sleep 30 & echo pid=$!; wait' }) });
    const finished = await stream.waitFor((e) => e.event === 'tool.finished');
    expect(finished.data).toMatchObject({ tool: 'shell', ok: false, summary: expect.stringMatching(/^\$ sleep 30 & echo pid=\$!; wait → killed after 0\.3 s timeout, 1 line$/) });
    await stream.waitFor((e) => e.event === 'turn.completed');
    const content: string = rt.model.requests[1]?.body.messages.at(-1).content;
    const pid = Number(/pid=(\d+)/.exec(content)?.[1]);
    expect(pid).toBeGreaterThan(0);
    await waitUntil(() => processIsGone(pid), `grandchild ${pid} is gone`);
    stream.close();
  });
});
