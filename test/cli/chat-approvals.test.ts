// `tether chat` and approvals it did not see asked: a resumed thread's waiting turn, and /approve, /deny.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../support/cli.js';
import { startTestRuntime, type TestRuntime } from '../support/runtime.js';

let rt: TestRuntime;
beforeAll(async () => {
  rt = await startTestRuntime();
});
afterAll(async () => {
  await rt?.stop();
});

const chatEnv = () => ({ TETHER_RUNTIME_URL: rt.url, TETHER_TOKEN: rt.token, TETHER_STATE_DIR: rt.stateDir });

/** Posts a shell turn on the thread from outside the chat and resolves once it waits for approval. */
async function turnWaitingForApproval(threadId: string, command: string): Promise<{ turnId: string; approvalId: string }> {
  const events = await rt.events(`/v1/threads/${threadId}/events?after=0`);
  try {
    const turn = (await rt.api('POST', `/v1/threads/${threadId}/turns`, { input: `!tool shell ${JSON.stringify({ command })}` })).body;
    const requested = await events.waitFor((e) => e.event === 'approval.requested' && e.data.turn_id === turn.id);
    return { turnId: turn.id, approvalId: requested.data.approval_id };
  } finally {
    events.close();
  }
}

const statuses = async (threadId: string) => (await rt.api('GET', `/v1/threads/${threadId}`)).body.turns.map((t: { status: string }) => t.status);

describe('tether chat with approvals waiting', () => {
  it('resuming a thread whose turn waits for approval asks y/n, runs it after y, and the next message follows', async () => {
    const thread = await rt.newThread();
    await turnWaitingForApproval(thread.id, 'echo resumed-ok');
    const res = await runCli(['chat', '--thread', thread.id], { env: chatEnv(), input: 'y\nafter it\n' });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('(awaiting approval)');
    expect(res.stdout).toContain('⚠ shell wants to run: $ echo resumed-ok\nApprove? [y/N] y\n');
    expect(res.stdout).toMatch(/done: resumed-ok/);
    expect(res.stdout).toContain('echo: after it');
    expect(await statuses(thread.id)).toEqual(['completed', 'completed']);
  });

  it('shows a spoofing command with its control characters visible, so approving it approves what runs', async () => {
    const thread = await rt.newThread();
    await turnWaitingForApproval(thread.id, 'touch PWNED # \x1b[2K\r⚠ shell wants to run: $ ls -la');
    const res = await runCli(['chat', '--thread', thread.id], { env: chatEnv(), input: 'n\n' });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('⚠ shell wants to run: $ touch PWNED # ␛[2K␍\\u26A0 shell wants to run: $ ls -la\nApprove? [y/N] n\n✗ denied');
    expect(res.stdout).not.toContain('\x1b');
    expect(res.stdout).not.toContain('\r');
  });

  it('shows a no-break space before # as \\u00A0, so live shell text cannot pass for a comment', async () => {
    const thread = await rt.newThread();
    await turnWaitingForApproval(thread.id, 'echo build ok\u00A0# ; touch PWNED');
    const res = await runCli(['chat', '--thread', thread.id], { env: chatEnv(), input: 'n\n' });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('⚠ shell wants to run: $ echo build ok\\u00A0# ; touch PWNED\nApprove? [y/N] n\n✗ denied');
    // The turn's input (`you: …`) is the person's own text and keeps it; the prompt never does.
    expect(res.stdout.split('\n').filter((line) => line.includes('wants to run') && line.includes('\u00A0'))).toEqual([]);
  });

  it('numbers the lines of a long command and folds its blank lines, so its last line cannot pass for the prompt; the question says how many lines', async () => {
    const thread = await rt.newThread();
    await turnWaitingForApproval(thread.id, 'touch PWNED' + '\n'.repeat(60) + '⚠ shell wants to run: $ ls -la');
    const res = await runCli(['chat', '--thread', thread.id], { env: chatEnv(), input: 'n\n' });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(
      ['⚠ shell wants to run (61 lines):', ' 1│ $ touch PWNED', '  ┆ ⟨59 blank lines⟩', '61│ \\u26A0 shell wants to run: $ ls -la', 'Approve all 61 lines above? [y/N] n', '✗ denied'].join('\n'),
    );
    expect(res.stdout.split('\n').filter((line) => line.startsWith('⚠ shell wants to run: $ ls'))).toEqual([]);
  });

  it('/approve decides an approval asked elsewhere and shows the turn to its end; /deny without one says so', async () => {
    const child = spawnCli(['chat'], { env: chatEnv() });
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      while (!/new thread (\S+) /.test(stdout)) await new Promise((r) => setTimeout(r, 20));
      const threadId = /new thread (\S+) /.exec(stdout)![1]!;
      const { approvalId } = await turnWaitingForApproval(threadId, 'echo approved-elsewhere');
      child.stdin!.end(`/approve ${approvalId}\n/deny\n`);
      expect(await exited).toBe(0);
      expect(stdout).toContain('✓ approved');
      expect(stdout).toMatch(/done: approved-elsewhere/);
      expect(stdout).toContain('no approval is waiting in this thread');
      expect(await statuses(threadId)).toEqual(['completed']);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a message typed while a turn waits for approval asks about that one first, then runs', async () => {
    const thread = await rt.newThread();
    const child = spawnCli(['chat', '--thread', thread.id], { env: chatEnv() });
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      // A first turn, so the chat's own check of waiting approvals at resume is over.
      child.stdin!.write('first message\n');
      while (!stdout.includes('echo: first message')) await new Promise((r) => setTimeout(r, 20));
      await turnWaitingForApproval(thread.id, 'touch never-run.txt');
      child.stdin!.end('next message\nn\n');
      expect(await exited).toBe(0);
      expect(stdout).toContain('a turn of this thread is waiting for an approval:\n⚠ shell wants to run: $ touch never-run.txt\nApprove? [y/N] n\n✗ denied');
      expect(stdout).toContain('echo: next message');
      expect(await statuses(thread.id)).toEqual(['completed', 'completed', 'completed']);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
