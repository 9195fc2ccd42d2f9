// `tether chat`: a terminal client of the runtime — each line is a turn, the reply streams back as it is written.
import { createInterface, type Interface } from 'node:readline';
import { approvalSafeText, decisionText, terminalSafeText } from '../lib/approval-text.js';
import { loadClientConfig, readEnvironment } from '../lib/config.js';
import { describeError, TetherError } from '../lib/errors.js';
import { createRuntimeClient, RuntimeApiError, RuntimeUnavailableError, type RuntimeClient, type Approval, type RuntimeEvent, type Thread, type ThreadWithTurns, type Turn } from '../lib/runtime-client.js';
import { shownUrl } from '../lib/shown-url.js';
import { readRuntimeToken } from '../lib/token.js';
import { commandArgs, wantsHelp } from './args.js';

function helpText(): string {
  return `Usage: tether chat [--thread ID]

Talk to the runtime from this terminal: each line you type is a turn, and the reply streams back.
Works with a pipe too (one turn per line; EOF exits after the running turn).

Options:
  --thread ID   resume a thread (its id is printed when a chat starts)
  --help        this text

In the chat:
${chatCommandHelp()}
  Ctrl-C        stop the running turn (twice: leave)
  Ctrl-D        leave after the running turn ends

The runtime is found at TETHER_RUNTIME_URL (default http://127.0.0.1:7878); the token is TETHER_TOKEN,
else runtime.token in TETHER_STATE_DIR.`;
}

// ---------- pure pieces: what a line means, and how events look on a terminal

export const CHAT_COMMANDS = {
  help: 'show the chat commands',
  new: 'start a fresh thread',
  thread: 'show the id of this thread (to resume it with --thread)',
  status: 'show the thread: status, model, approval mode',
  model: '/model NAME: use another model in this thread (no NAME: show it)',
  approve: '/approve [ID]: approve what a turn of this thread waits for (resumed chats, or asked elsewhere)',
  deny: '/deny [ID]: deny it',
  exit: 'leave (also /quit)',
} as const;
export type ChatCommandName = keyof typeof CHAT_COMMANDS;

function chatCommandHelp(): string {
  return Object.entries(CHAT_COMMANDS)
    .map(([name, what]) => `  /${name.padEnd(12)}${what}`)
    .join('\n');
}

export type ChatLine = { kind: 'empty' } | { kind: 'turn'; input: string } | { kind: 'command'; name: ChatCommandName; argument: string } | { kind: 'unknown_command'; name: string };

/**
 * A line is a chat command only when it looks like one (`/word`, no further slash in the word),
 * so a message that starts with a path such as `/etc/hosts …` still goes to the agent.
 */
export function parseChatLine(line: string): ChatLine {
  const text = line.trim();
  if (text === '') return { kind: 'empty' };
  const m = /^\/([A-Za-z]+)(?:\s+([\s\S]*))?$/.exec(text);
  if (!m) return { kind: 'turn', input: text };
  const name = m[1]!.toLowerCase();
  const argument = (m[2] ?? '').trim();
  if (name === 'quit') return { kind: 'command', name: 'exit', argument };
  if (name in CHAT_COMMANDS) return { kind: 'command', name: name as ChatCommandName, argument };
  return { kind: 'unknown_command', name };
}

/** A reply in y/yes (any case) approves; everything else, including no answer, denies. */
export function isApproval(answer: string | null): boolean {
  return answer !== null && /^\s*y(es)?\s*$/i.test(answer);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

/**
 * A field of an event that names an action (tool, summary, error), with control characters shown
 * visibly: the runtime does this already, and it is done again here in case an older runtime did
 * not, so an escape sequence can never redraw an approval prompt.
 */
function shown(value: unknown): string {
  return approvalSafeText(str(value));
}

/**
 * The question after an approval prompt. A summary of several lines says how many, beside the
 * answer: its first lines may have scrolled out of sight, and they are approved too.
 */
export function approvalQuestion(summary: unknown): string {
  const { lines } = decisionText(str(summary));
  return lines === 1 ? 'Approve? [y/N] ' : `Approve all ${lines} lines above? [y/N] `;
}

/** At most `max` code points of the first line, with an ellipsis when something was left out. */
export function shorten(text: string, max = 100): string {
  const firstLine = text.trim().split('\n')[0] ?? '';
  const points = Array.from(firstLine);
  const cut = points.length > max || firstLine.length < text.trim().length;
  return points.slice(0, max).join('') + (cut ? '…' : '');
}

/** One line for a turn that ended without completing; undefined for a completed one. */
export function describeUnfinishedTurn(status: string, error?: string | null): string | undefined {
  switch (status) {
    case 'failed':
      return `✗ turn failed: ${error || 'no reason given'}`;
    case 'cancelled':
      return '✗ turn cancelled';
    case 'interrupted':
      return '✗ turn interrupted (the runtime restarted while it ran)';
    default:
      return undefined;
  }
}

/** The few last turns of a resumed thread, briefly. */
export function describeRecentTurns(turns: readonly Turn[], count = 3): string[] {
  const lines: string[] = [];
  const recent = turns.slice(-count);
  if (turns.length > recent.length) lines.push(`… ${turns.length - recent.length} earlier turn(s)`);
  for (const t of recent) {
    lines.push(`you: ${shorten(terminalSafeText(t.input))}`);
    const unfinished = describeUnfinishedTurn(t.status, t.error ? shown(t.error) : t.error);
    if (unfinished) lines.push(unfinished);
    else if (t.status === 'completed') lines.push(`agent: ${shorten(terminalSafeText(t.output)) || '(no text)'}`);
    else lines.push(`(${t.status.replace('_', ' ')})`);
  }
  return lines;
}

/**
 * Turns one turn's events into terminal text. Keeps only what it needs to place line breaks:
 * a tool line is opened by tool.started and closed by tool.finished (`⚙ shell: $ ls → exit 0`).
 */
export class TurnRenderer {
  private atLineStart = true;
  private openTool: { tool: string; summary: string } | undefined;
  private wroteText = false;

  /** Text to print for the event, possibly empty. Approvals are asked by the caller, after this. */
  render(event: RuntimeEvent): string {
    switch (event.type) {
      case 'message.delta': {
        const text = terminalSafeText(str(event.text));
        if (!text) return '';
        this.wroteText = true;
        return this.emit(this.closeToolLine() + text);
      }
      case 'tool.started': {
        const tool = shown(event.tool);
        const summary = shown(event.summary);
        const out = this.closeToolLine() + this.lineBreak() + `⚙ ${tool}: ${summary}`;
        this.openTool = { tool, summary };
        return this.emit(out);
      }
      case 'tool.finished': {
        const summary = shown(event.summary);
        const mark = event.ok === false ? ' ✗' : '';
        if (this.openTool && this.atLineStart === false) {
          const started = this.openTool.summary;
          this.openTool = undefined;
          // The runtime's finished summary usually repeats the command: print only what is new.
          const rest = started && summary.startsWith(started) ? summary.slice(started.length) : ` → ${summary}`;
          return this.emit(`${rest.trimEnd()}${mark}\n`);
        }
        this.openTool = undefined;
        return this.emit(this.lineBreak() + `⚙ ${shown(event.tool)}: ${summary}${mark}\n`);
      }
      case 'approval.requested': {
        // Laid out by the shared rule: numbered lines, blank runs as one marker line, the count stated.
        const asked = decisionText(str(event.summary));
        const what = asked.lines === 1 ? `: ${asked.text}` : ` (${asked.lines} lines):\n${asked.text}`;
        return this.emit(this.closeToolLine() + this.lineBreak() + `⚠ ${shown(event.tool)} wants to run${what}\n`);
      }
      case 'approval.resolved':
        return this.emit(this.lineBreak() + (event.decision === 'approve' ? '✓ approved\n' : '✗ denied\n'));
      case 'turn.completed': {
        const output = terminalSafeText(str(event.output));
        // Nothing streamed (a runtime that sends no deltas): the output is the whole reply.
        const text = !this.wroteText && output ? this.closeToolLine() + output : this.closeToolLine();
        return this.emit(text + this.lineBreakAfter(text));
      }
      case 'turn.failed':
      case 'turn.cancelled':
      case 'turn.interrupted': {
        const status = event.type.slice('turn.'.length);
        return this.emit(this.closeToolLine() + this.lineBreak() + describeUnfinishedTurn(status, shown(event.error)) + '\n');
      }
      default:
        return '';
    }
  }

  /** A line break when the cursor is mid-line (before a prompt or an error line). */
  finishLine(): string {
    return this.emit(this.closeToolLine() + this.lineBreak());
  }

  private closeToolLine(): string {
    if (!this.openTool || this.atLineStart) return '';
    this.openTool = undefined;
    this.atLineStart = true;
    return '\n';
  }

  private lineBreak(): string {
    return this.atLineStart ? '' : '\n';
  }

  private lineBreakAfter(text: string): string {
    if (text === '') return this.lineBreak();
    return text.endsWith('\n') ? '' : '\n';
  }

  private emit(text: string): string {
    if (text) this.atLineStart = text.endsWith('\n');
    return text;
  }
}

export const TERMINAL_EVENTS = new Set(['turn.completed', 'turn.failed', 'turn.cancelled', 'turn.interrupted']);

// ---------- effects: stdin lines, the runtime, signals

/** Lines of stdin as an async source; `next()` resolves null at EOF. */
class LineSource {
  private readonly lines: string[] = [];
  private readonly waiting: Array<(line: string | null) => void> = [];
  private ended = false;

  constructor(readonly rl: Interface) {
    rl.on('line', (line) => {
      const w = this.waiting.shift();
      if (w) w(line);
      else this.lines.push(line);
    });
    rl.on('close', () => {
      this.ended = true;
      for (const w of this.waiting.splice(0)) w(null);
    });
  }

  next(): Promise<string | null> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Hands a waiting reader null (used by Ctrl-C during a question). */
  interrupt(): void {
    for (const w of this.waiting.splice(0)) w(null);
  }
}

/** Events of one turn, handed from the event stream to the loop that prints them. */
/** The runtime's events of a turn, plus the chat's own markers: the person left mid-turn, or the thread's stream ended for good. */
type TurnEvent = RuntimeEvent | { type: 'chat.left' } | { type: 'chat.unfollowed' };

class TurnEvents {
  private readonly queue: TurnEvent[] = [];
  private wake: (() => void) | undefined;

  push(event: TurnEvent): void {
    this.queue.push(event);
    this.wake?.();
  }

  async next(): Promise<TurnEvent> {
    while (this.queue.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
    return this.queue.shift()!;
  }
}

interface RunningTurn {
  id: string | undefined;
  renderer: TurnRenderer;
  events: TurnEvents;
  cancelRequested: boolean;
}

/** The thread's approvals still waiting for a person, oldest first. */
async function pendingApprovals(client: RuntimeClient, threadId: string): Promise<Approval[]> {
  return [...(await client.listApprovals({ threadId, status: 'pending' }))].reverse();
}

function cannotReach(url: string): TetherError {
  return new TetherError('runtime_unavailable', `cannot reach the runtime at ${shownUrl(url)}`, 'start it with `tether runtime` or `npm start`');
}

/** Turns a client failure into the one line a person needs. */
function explainFailure(err: unknown, url: string, stateDir: string): TetherError {
  if (err instanceof RuntimeUnavailableError) return cannotReach(url);
  if (err instanceof RuntimeApiError && err.status === 401) {
    return new TetherError('bad_token', `the runtime at ${shownUrl(url)} refused the token`, `set TETHER_TOKEN to the runtime's token, or unset it to use ${stateDir}/runtime.token on this host`);
  }
  if (err instanceof TetherError) return err;
  return new TetherError('chat_failed', describeError(err));
}

export async function run(args: string[]): Promise<number> {
  const parsed = commandArgs(args, 'chat', { thread: { type: 'string' } });
  if (wantsHelp(parsed, helpText())) return 0;
  const threadFlag = parsed.values.thread as string | undefined;
  if (threadFlag === '') throw new TetherError('bad_arguments', '--thread needs a thread id', 'run tether chat --thread <ID>, with the id printed when that chat started');

  const config = loadClientConfig(readEnvironment());
  const url = config.runtimeUrl;
  let token: string;
  try {
    token = readRuntimeToken(config.stateDir, config.token);
  } catch (err) {
    // No token file usually means no runtime ever ran here: say that first if it is so.
    const probe = createRuntimeClient({ url, token: '', timeoutMs: 5_000 });
    try {
      await probe.health();
    } catch (healthErr) {
      if (healthErr instanceof RuntimeUnavailableError) throw cannotReach(url);
    } finally {
      await probe.close();
    }
    throw err;
  }

  const client = createRuntimeClient({ url, token });
  // Output piped into `head` and the like may close early: stop writing rather than crash with EPIPE.
  let outputClosed = false;
  const onOutputError = () => {
    outputClosed = true;
  };
  process.stdout.on('error', onOutputError);
  const out = (text: string) => {
    if (text && !outputClosed) process.stdout.write(text);
  };
  try {
    let thread: Thread;
    try {
      thread = typeof threadFlag === 'string' ? await client.getThread(threadFlag) : await client.createThread({ metadata: { platform: 'terminal' } });
    } catch (err) {
      if (err instanceof RuntimeApiError && err.status === 404 && typeof threadFlag === 'string') {
        throw new TetherError('unknown_thread', `the runtime has no thread ${threadFlag}`, 'run tether chat without --thread to start a new one');
      }
      throw explainFailure(err, url, config.stateDir);
    }
    return await converse(client, thread, typeof threadFlag === 'string', out, url, token, config.stateDir);
  } finally {
    process.stdout.off('error', onOutputError);
    await client.close().catch(() => {});
  }
}

async function converse(client: RuntimeClient, firstThread: Thread, resumed: boolean, out: (text: string) => void, url: string, token: string, stateDir: string): Promise<number> {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const rl = createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive });
  const lines = new LineSource(rl);
  let thread = firstThread;
  let running: RunningTurn | undefined;
  let postInFlight: Promise<unknown> = Promise.resolve();
  let follow: AbortController | undefined;
  let leaving = false;

  // One stream per thread, opened before any turn is posted, from the thread's last_seq: no gap.
  const followThread = (t: Thread) => {
    follow?.abort();
    const controller = new AbortController();
    follow = controller;
    let lost = false;
    const following = client.followEvents({
      after: t.last_seq,
      threadId: t.id,
      signal: controller.signal,
      // The client reconnects by itself from the last event seen; say so only when someone is waiting.
      onState: (state) => {
        if (controller.signal.aborted) return;
        if (state === 'disconnected' && !lost) {
          lost = true;
          if (running) out(running.renderer.finishLine() + `… lost the connection to the runtime at ${shownUrl(url)}; retrying (Ctrl-C to stop waiting)\n`);
        } else if (state === 'connected' && lost) {
          lost = false;
          if (running) out('… reconnected\n');
        }
      },
      onEvent: async (event) => {
        // The turn id is known only when the POST answers; its first events may arrive before that.
        await postInFlight;
        if (running && event.turn_id === running.id) running.events.push(event);
      },
    });
    // It ends only when the runtime has no such thread (its state was reset): nothing more will come.
    following.catch((err: unknown) => {
      if (controller.signal.aborted) return;
      const why = err instanceof RuntimeApiError && err.status === 404 ? `the runtime has no thread ${t.id} any more (was its state reset?); /new starts a fresh one` : explainFailure(err, url, stateDir).message;
      out((running ? running.renderer.finishLine() : '') + `✗ ${why}\n`);
      running?.events.push({ type: 'chat.unfollowed' });
    });
  };

  const showThread = (t: Thread, how: 'new' | 'resumed') => {
    out(`${how === 'new' ? 'new thread' : 'resumed thread'} ${t.id} (resume later with: tether chat --thread ${t.id})\n`);
  };

  const prompt = () => {
    if (interactive) rl.prompt();
  };

  let lastInterrupt = 0;
  const onInterrupt = () => {
    const now = Date.now();
    const twice = now - lastInterrupt < 2_000;
    lastInterrupt = now;
    if (running && !twice) {
      if (running.id && !running.cancelRequested) {
        running.cancelRequested = true;
        out(running.renderer.finishLine() + '(stopping the turn… Ctrl-C again to leave)\n');
        client.cancelTurn(thread.id, running.id).catch((err) => out(`✗ could not stop the turn: ${explainFailure(err, url, stateDir).message}\n`));
      }
      lines.interrupt();
      return;
    }
    out('\n');
    leaving = true;
    lines.interrupt();
    rl.close();
    // A running turn keeps running in the runtime; its id is in the thread, so nothing is lost.
    if (running) running.events.push({ type: 'chat.left' });
  };
  rl.on('SIGINT', onInterrupt);
  process.on('SIGINT', onInterrupt);

  /** Prints a turn's events until it ends, asking y/n for each approval it requests. */
  const followTurn = async (turn: RunningTurn) => {
    for (;;) {
      const event = await turn.events.next();
      if (event.type === 'chat.left' || event.type === 'chat.unfollowed') break;
      out(turn.renderer.render(event));
      if (event.type === 'approval.requested') {
        out(approvalQuestion(event.summary));
        const answer = leaving ? null : await lines.next();
        if (answer === null) out(turn.cancelRequested ? '\n' : '(no answer: denied)\n');
        // A terminal echoes what was typed; a pipe does not, so show the answer that was read.
        else if (!interactive) out(`${answer}\n`);
        const decision = isApproval(answer) ? 'approve' : 'deny';
        if (!turn.cancelRequested) await decide(str(event.approval_id), decision);
      }
      if (TERMINAL_EVENTS.has(event.type)) break;
    }
    running = undefined;
  };

  const decide = (approvalId: string, decision: 'approve' | 'deny') =>
    client.decideApproval(approvalId, decision).catch((err) => {
      // 409: decided elsewhere (a phone, or the turn ended); the stream says what happened.
      if (!(err instanceof RuntimeApiError && err.status === 409)) out(`✗ ${explainFailure(err, url, stateDir).message}\n`);
    });

  /** Follows a turn already in the runtime (not posted by this chat), from now on. */
  const adoptTurn = (turnId: string): RunningTurn => {
    const turn: RunningTurn = { id: turnId, renderer: new TurnRenderer(), events: new TurnEvents(), cancelRequested: false };
    running = turn;
    return turn;
  };

  /** A turn of this thread waits for a person (resumed chat, or asked elsewhere): ask here, then follow it to its end. */
  const askWaitingApproval = async (a: Approval) => {
    const turn = adoptTurn(a.turn_id);
    turn.events.push({ type: 'approval.requested', seq: 0, thread_id: thread.id, turn_id: a.turn_id, at: '', approval_id: a.id, tool: a.tool, summary: a.summary });
    await followTurn(turn);
  };

  /** The approvals waiting in this thread; a failure to list them is said, not fatal. */
  const waitingApprovals = async (): Promise<Approval[]> => {
    try {
      return await pendingApprovals(client, thread.id);
    } catch (err) {
      out(`✗ ${explainFailure(err, url, stateDir).message}\n`);
      return [];
    }
  };

  /** /approve [ID] and /deny [ID]: decide a waiting approval of this thread, then follow its turn. */
  const decideByCommand = async (decision: 'approve' | 'deny', id: string) => {
    const waiting = await waitingApprovals();
    const chosen = id ? waiting.find((a) => a.id === id) : waiting[0];
    if (!chosen) {
      out(id ? `no approval ${id} is waiting in this thread\n` : 'no approval is waiting in this thread\n');
      return;
    }
    const turn = adoptTurn(chosen.turn_id);
    await decide(chosen.id, decision);
    await followTurn(turn);
  };

  const runTurn = async (input: string) => {
    // A message posted behind a turn that waits for a person would wait silently: settle that one first.
    for (const waiting of await waitingApprovals()) {
      out('a turn of this thread is waiting for an approval:\n');
      await askWaitingApproval(waiting);
      if (leaving) return;
    }
    const turn: RunningTurn = { id: undefined, renderer: new TurnRenderer(), events: new TurnEvents(), cancelRequested: false };
    running = turn;
    let posted: Turn;
    try {
      const post = client.postTurn(thread.id, input);
      postInFlight = post.catch(() => undefined);
      posted = await post;
      turn.id = posted.id;
    } catch (err) {
      running = undefined;
      out(`✗ ${explainFailure(err, url, stateDir).message}\n`);
      return;
    }
    await followTurn(turn);
  };

  try {
    if (resumed) {
      showThread(thread, 'resumed');
      for (const line of describeRecentTurns('turns' in thread ? (thread as ThreadWithTurns).turns : [])) out(`  ${line}\n`);
    } else showThread(thread, 'new');
    if (interactive) out('Type a message; /help lists commands, Ctrl-D leaves.\n');
    followThread(thread);
    rl.setPrompt('you> ');
    if (resumed) for (const waiting of await waitingApprovals()) await askWaitingApproval(waiting);
    prompt();

    while (!leaving) {
      const line = await lines.next();
      if (line === null) {
        // Ctrl-D leaves the cursor after the prompt; end the line so the shell prompt starts clean.
        if (interactive && !leaving) out('\n');
        break;
      }
      const parsed = parseChatLine(line);
      switch (parsed.kind) {
        case 'empty':
          break;
        case 'turn':
          await runTurn(parsed.input);
          break;
        case 'unknown_command':
          out(`unknown command /${parsed.name}; /help lists them\n`);
          break;
        case 'command':
          if (parsed.name === 'exit') {
            leaving = true;
            break;
          }
          if (parsed.name === 'approve' || parsed.name === 'deny') {
            await decideByCommand(parsed.name, parsed.argument);
            break;
          }
          try {
            thread = await runChatCommand(client, thread, parsed.name, parsed.argument, out, (t) => {
              showThread(t, 'new');
              followThread(t);
            });
          } catch (err) {
            out(`✗ ${explainFailure(err, url, stateDir).message}\n`);
          }
          break;
      }
      if (!leaving) prompt();
    }
    return 0;
  } finally {
    process.off('SIGINT', onInterrupt);
    follow?.abort();
    rl.close();
  }
}

/** A chat command other than /exit; returns the thread the chat is on afterwards. */
async function runChatCommand(client: RuntimeClient, thread: Thread, name: Exclude<ChatCommandName, 'exit' | 'approve' | 'deny'>, argument: string, out: (text: string) => void, onNewThread: (t: Thread) => void): Promise<Thread> {
  switch (name) {
    case 'help':
      out(`${chatCommandHelp()}\nAnything else is sent to the agent.\n`);
      return thread;
    case 'new': {
      const fresh = await client.createThread({ metadata: { platform: 'terminal' } });
      onNewThread(fresh);
      return fresh;
    }
    case 'thread':
      out(`thread ${thread.id}\n`);
      return thread;
    case 'status': {
      const t = await client.getThread(thread.id);
      out(`thread ${t.id}: ${t.status}, model ${t.model}, approval ${t.approval}, ${t.turns?.length ?? 0} turn(s)\n`);
      return t;
    }
    case 'model': {
      if (!argument) {
        const t = await client.getThread(thread.id);
        out(`model ${t.model}\n`);
        return t;
      }
      const t = await client.patchThread(thread.id, { model: argument });
      out(`model set to ${t.model} for this thread\n`);
      return t;
    }
  }
}
