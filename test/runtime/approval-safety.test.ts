// What a person approves is what runs: control characters shown visibly, writes name their real target, a stricter mode stops the running turn's next call.
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { approvalSafeText } from '../../lib/approval-text.js';
import { runtimesPerTest, type TestRuntime } from '../support/runtime.js';

const { runtime } = runtimesPerTest();

const toolCall = (name: string, args: unknown) => `!tool ${name} ${JSON.stringify(args)}`;
/** The spoof of the issue: an escape sequence erases the line and a carriage return starts it again, showing a harmless command. */
const SPOOF = 'touch PWNED # \x1b[2K\r⚠ shell wants to run: $ ls -la';

describe('approval-safe text', () => {
  it.each([
    ['ESC and CR', SPOOF, 'touch PWNED # ␛[2K␍⚠ shell wants to run: $ ls -la'],
    ['a right-to-left override', 'echo safe \u202Edm.txt', 'echo safe \\u202Edm.txt'],
    ['bidi isolates and marks', 'a\u2066b\u2069c\u200Fd\u061C', 'a\\u2066b\\u2069c\\u200Fd\\u061C'],
    ['C1 controls and DEL', 'a\u009Bb\u0085c\x7F', 'a\\u009Bb\\u0085c␡'],
    ['tab, NUL, backspace', 'a\tb\0c\bd', 'a␉b␀c␈d'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'a\\u2028b\\u2029c'],
    ['zero-width characters and BOM', 'l\u200Bs\uFEFF', 'l\\u200Bs\\uFEFF'],
    ['newlines, kept', 'one\ntwo', 'one\ntwo'],
    ['plain text, unchanged', 'rm -rf build/ && echo "ünï 文件 ✓"', 'rm -rf build/ && echo "ünï 文件 ✓"'],
  ])('shows %s visibly', (_what, input, shown) => {
    expect(approvalSafeText(input)).toBe(shown);
    expect(approvalSafeText(shown)).toBe(shown);
  });

  it('a spoofing shell command reaches every client with its control characters visible, in the approval and in the tool lines', async () => {
    const rt = await runtime({ TETHER_APPROVAL: 'ask' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: toolCall('shell', { command: SPOOF }) });
    const asked = await stream.waitFor((e) => e.event === 'approval.requested');
    // A command is code: outside ASCII, even the warning sign is shown as its code point.
    expect(asked.data.summary).toBe('$ touch PWNED # ␛[2K␍\\u26A0 shell wants to run: $ ls -la');
    const listed = await rt.api('GET', `/v1/approvals?thread_id=${t.id}&status=pending`);
    expect(listed.body.approvals[0].summary).toBe(asked.data.summary);
    await rt.api('POST', `/v1/approvals/${asked.data.approval_id}`, { decision: 'approve' });
    await stream.waitFor((e) => e.event === 'turn.completed');
    const shown = stream.events.filter((e) => /^(tool|approval)\./.test(e.event ?? '')).map((e) => JSON.stringify(e.data));
    for (const line of shown) expect(line).not.toMatch(/\\u001b|\\r/);
    // The finished line is a shortened one-liner, with the escape and the carriage return still visible.
    expect(stream.events.find((e) => e.event === 'tool.finished')!.data.summary).toMatch(/^\$ touch PWNED # ␛\[2K␍\\u26A0 shell wants to run/);
    stream.close();
  });

  it("a write's path and first line stay readable, with a space other than ASCII's shown visibly", async () => {
    const rt = await runtime({ TETHER_APPROVAL: 'ask' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: toolCall('write_file', { path: '笔记.md', content: 'déjà vu\u00A0# ok\n' }) });
    const asked = await stream.waitFor((e) => e.event === 'approval.requested');
    expect(asked.data.summary).toBe('write 笔记.md (1 line, 16 bytes): déjà vu\\u00A0# ok');
    stream.close();
  });

  it('a write whose first line carries a bidi override is shown with it visible', async () => {
    const rt = await runtime({ TETHER_APPROVAL: 'ask' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: toolCall('write_file', { path: 'x.sh', content: 'echo \u202Eharmless\n' }) });
    const asked = await stream.waitFor((e) => e.event === 'approval.requested');
    expect(asked.data.summary).toBe('write x.sh (1 line, 17 bytes): echo \\u202Eharmless');
    stream.close();
  });
});

describe('turn.failed', () => {
  it("shows a provider's own words with their control characters visible", async () => {
    const rt = await runtime();
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    rt.model.enqueue({ status: 400, message: 'bad request\x1b[2J\x1b[H all clear' });
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'hello' });
    const failed = await stream.waitFor((e) => e.event === 'turn.failed');
    expect(failed.data.error).toContain('bad request␛[2J␛[H all clear');
    stream.close();
  });
});

describe('writes name their real target', () => {
  function repoWithSymlinks(rt: TestRuntime): void {
    mkdirSync(join(rt.workspace, '.git'));
    writeFileSync(join(rt.workspace, '.git', 'config'), '[core]\n');
    mkdirSync(join(rt.workspace, 'docs'));
    symlinkSync('../.git/config', join(rt.workspace, 'docs', 'notes.md'));
    writeFileSync(join(rt.workspace, 'real.md'), 'real\n');
    symlinkSync('../real.md', join(rt.workspace, 'docs', 'a.md'));
  }

  it('ask: the approval and the result name the target a symlink leads to, and the approved write goes there', async () => {
    const rt = await runtime({ TETHER_APPROVAL: 'ask' });
    repoWithSymlinks(rt);
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: toolCall('write_file', { path: 'docs/notes.md', content: '[core]\n\tfsmonitor = touch PWNED\n' }) });
    const asked = await stream.waitFor((e) => e.event === 'approval.requested');
    expect(asked.data.summary).toBe('write docs/notes.md → .git/config (2 lines, 32 bytes): [core]');
    await rt.api('POST', `/v1/approvals/${asked.data.approval_id}`, { decision: 'approve' });
    const finished = await stream.waitFor((e) => e.event === 'tool.finished');
    expect(finished.data).toMatchObject({ ok: true, summary: 'replaced docs/notes.md → .git/config (2 lines, 32 B)' });
    expect(stream.events.find((e) => e.event === 'tool.started')!.data.summary).toBe(asked.data.summary);
    stream.close();
  });

  it('auto: a write into .git/ still waits for a person; one through a symlink elsewhere replaces the symlink without asking', async () => {
    const rt = await runtime({ TETHER_APPROVAL: 'auto' });
    repoWithSymlinks(rt);
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: toolCall('write_file', { path: 'docs/notes.md', content: '[core]\n\tfsmonitor = touch PWNED\n' }) });
    const asked = await stream.waitFor((e) => e.event === 'approval.requested');
    expect(asked.data.summary).toMatch(/^write docs\/notes\.md → \.git\/config /);
    expect(readFileSync(join(rt.workspace, '.git', 'config'), 'utf8')).toBe('[core]\n');
    await rt.api('POST', `/v1/approvals/${asked.data.approval_id}`, { decision: 'deny' });
    await stream.waitFor((e) => e.event === 'turn.completed');
    expect(readFileSync(join(rt.workspace, '.git', 'config'), 'utf8')).toBe('[core]\n');

    const posted = await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: toolCall('write_file', { path: 'docs/a.md', content: 'mine\n' }) });
    const done = await stream.waitFor((e) => e.event === 'turn.completed' && e.data.turn_id === posted.body.id);
    const finished = stream.events.find((e) => e.event === 'tool.finished' && e.data.turn_id === posted.body.id)!;
    expect(finished.data).toMatchObject({ ok: true, summary: 'replaced the symlink docs/a.md (it led to real.md) with a file (1 line, 5 B)' });
    expect(done.data.output).toContain('real.md was not changed');
    expect(readFileSync(join(rt.workspace, 'real.md'), 'utf8')).toBe('real\n');
    expect(lstatSync(join(rt.workspace, 'docs', 'a.md')).isFile()).toBe(true);
    expect(stream.events.filter((e) => e.event === 'approval.requested')).toHaveLength(1);
    stream.close();
  });
});

describe('an approved write lands only where its approval said', () => {
  it('a write through a dangling symlink is not written into .git/ when the directory it leads to appears before the approval', async () => {
    const rt = await runtime({ TETHER_APPROVAL: 'ask' });
    mkdirSync(join(rt.workspace, '.git'));
    symlinkSync('.git/hooks', join(rt.workspace, 'docs'));
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: toolCall('write_file', { path: 'docs/pre-commit', content: '#!/bin/sh\ntouch PWNED\n' }) });
    const asked = await stream.waitFor((e) => e.event === 'approval.requested');
    expect(asked.data.summary).toBe('write docs/pre-commit (2 lines, 22 bytes): #!/bin/sh');
    mkdirSync(join(rt.workspace, '.git', 'hooks'));
    await rt.api('POST', `/v1/approvals/${asked.data.approval_id}`, { decision: 'approve' });
    await stream.waitFor((e) => e.event === 'turn.completed');
    expect(stream.events.find((e) => e.event === 'tool.finished')!.data).toMatchObject({ ok: false, summary: expect.stringMatching(/^write docs\/pre-commit: not written: docs\/pre-commit now leads to \.git\/hooks\/pre-commit/) });
    expect(existsSync(join(rt.workspace, '.git', 'hooks', 'pre-commit'))).toBe(false);
    stream.close();
  });
});

describe('a stricter mode applies to the running turn', () => {
  it('switching a thread to readonly stops the next tool calls of its running turn', async () => {
    const rt = await runtime({ TETHER_APPROVAL: 'auto' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    rt.model.enqueue({ after: held, toolCalls: [{ name: 'write_file', arguments: { path: 'note.txt', content: 'x' } }, { name: 'shell', arguments: { command: 'touch pwned' } }] });
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: 'write a note, then touch a file' });
    // The turn is running under auto: its model call is in flight, its tool calls not yet made.
    await rt.model.waitForRequests(1);
    expect((await rt.api('PATCH', `/v1/threads/${t.id}`, { approval: 'readonly' })).status).toBe(200);
    release();
    await stream.waitFor((e) => e.event === 'turn.completed');
    const finished = stream.events.filter((e) => e.event === 'tool.finished').map((e) => e.data);
    expect(finished).toEqual([
      expect.objectContaining({ tool: 'write_file', ok: false, summary: 'not run: the thread is read-only' }),
      expect.objectContaining({ tool: 'shell', ok: false, summary: 'not run: the thread is read-only' }),
    ]);
    expect(stream.events.filter((e) => e.event === 'tool.started').map((e) => e.data.summary)).toEqual(['write note.txt (1 line, 1 byte): x', '$ touch pwned']);
    expect(existsSync(join(rt.workspace, 'note.txt'))).toBe(false);
    expect(existsSync(join(rt.workspace, 'pwned'))).toBe(false);
    // The model's next call is offered only what readonly offers.
    expect(rt.model.requests[1]!.body.tools.map((x: { function: { name: string } }) => x.function.name).sort()).toEqual(['list_dir', 'read_file']);
    expect(rt.model.requests[1]!.body.messages.at(-1).content).toMatch(/^not run: this conversation is read-only now/);
    stream.close();
  });

  it('an approval given after the thread became readonly does not run the tool', async () => {
    const rt = await runtime({ TETHER_APPROVAL: 'ask' });
    const t = await rt.newThread();
    const stream = await rt.events(`/v1/threads/${t.id}/events?after=0`);
    await rt.api('POST', `/v1/threads/${t.id}/turns`, { input: toolCall('shell', { command: 'touch pwned' }) });
    const asked = await stream.waitFor((e) => e.event === 'approval.requested');
    await rt.api('PATCH', `/v1/threads/${t.id}`, { approval: 'readonly' });
    await rt.api('POST', `/v1/approvals/${asked.data.approval_id}`, { decision: 'approve' });
    await stream.waitFor((e) => e.event === 'turn.completed');
    expect(stream.events.find((e) => e.event === 'tool.finished')!.data).toMatchObject({ tool: 'shell', ok: false, summary: 'not run: the thread is read-only' });
    expect(existsSync(join(rt.workspace, 'pwned'))).toBe(false);
    stream.close();
  });
});
