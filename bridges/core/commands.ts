// Chat commands as a table: name, description for the platform's menu, and a plain handler.
import { FINISHED_TURN_STATUSES, RuntimeApiError, RuntimeUnavailableError } from '../../lib/runtime-client.js';
import { conversationKey } from './adapter.js';
import type { BridgeContext } from './context.js';
import { decideRuntimeApproval, decisionText } from './decisions.js';
import { REQUEST_APPROVAL_PREFIX, decideAccessRequest, findOpenRequest, openRequestById } from './enrolment.js';
import type { InboxRow } from './store.js';
import type { ThreadDirectory } from './threads.js';

export interface CommandCall {
  ctx: BridgeContext;
  threads: ThreadDirectory;
  message: InboxRow;
  /** Everything after the command name, trimmed. */
  args: string;
}

export interface ChatCommand {
  name: string;
  description: string;
  /** Answered, but left out of /help and the platform menu. */
  hidden?: boolean;
  /** Resolves to the reply. May throw RuntimeUnavailableError: the inbox retries the command later. */
  run(call: CommandCall): Promise<string>;
}

/**
 * `/name args` → {name, args}; undefined when the text does not start with a slash word. No
 * platform suffix is understood here: the adapter has already removed one naming this bot and
 * kept back a command for another bot (InboundMessage.text), so `/tmp@host …` is plain text.
 */
export function parseCommand(text: string): { name: string; args: string } | undefined {
  const m = /^\/([A-Za-z][A-Za-z0-9_]*)(?:\s+([\s\S]*))?$/.exec(text.trim());
  return m ? { name: m[1]!.toLowerCase(), args: (m[2] ?? '').trim() } : undefined;
}

const LATER = 'Schedules arrive in a later release of Tether. For now, ask the agent directly, or use cron on the host.';

async function decide(call: CommandCall, decision: 'approve' | 'deny'): Promise<string> {
  const { ctx, message, args } = call;
  const conversation = message.conversation;
  // An owner may answer an access request from chat with the code the stranger was given. For
  // anyone else a request code is just an unknown id: the answer must not say the code is valid.
  if (args && ctx.roleOf(message.senderId) === 'owner') {
    const request = args.startsWith(REQUEST_APPROVAL_PREFIX) ? openRequestById(ctx.store, args.slice(REQUEST_APPROVAL_PREFIX.length), ctx.now()) : findOpenRequest(ctx.store, args, ctx.now());
    if (request) {
      if (!decideAccessRequest(ctx.store, request, decision, `${ctx.adapter.platform}:${message.senderId}`, ctx.now())) return 'That request was already decided.';
      return decision === 'approve' ? `Approved: ${request.requesterName ?? request.requesterId} may talk to the agent now.` : 'Denied: the request is closed.';
    }
  }
  const approval = args ? ctx.store.approval(args) : ctx.store.latestPendingApproval(conversation);
  if (!approval || approval.conversation !== conversation) return args ? `There is no approval ${args} in this conversation.` : 'Nothing is waiting for approval in this conversation.';
  return decisionText(await decideRuntimeApproval(ctx, approval, decision), ctx.store.approval(approval.approvalId) ?? approval);
}

/**
 * `/new` ends what the old thread still has open (running, waiting for approval, queued): once the
 * thread is archived no `/stop` reaches it, and its replies would arrive later, unannounced, in
 * the middle of the new conversation. Each cancelled turn's end is still relayed (`Stopped.`).
 */
async function stopOpenTurns(ctx: BridgeContext, threadId: string): Promise<{ running: number; queued: number }> {
  let turns;
  try {
    turns = (await ctx.client.getThread(threadId)).turns ?? [];
  } catch (err) {
    if (err instanceof RuntimeApiError && err.status === 404) return { running: 0, queued: 0 };
    throw err;
  }
  const stopped = { running: 0, queued: 0 };
  // Newest first: a queued turn cancelled after the running one could start in between.
  for (const turn of turns.filter((t) => !FINISHED_TURN_STATUSES.includes(t.status)).reverse()) {
    try {
      await ctx.client.cancelTurn(threadId, turn.id);
    } catch (err) {
      if (err instanceof RuntimeApiError && (err.status === 409 || err.status === 404)) continue;
      throw err;
    }
    if (turn.status === 'queued') stopped.queued++;
    else stopped.running++;
  }
  return stopped;
}

function stoppedText(s: { running: number; queued: number }): string {
  const parts = [...(s.running > 0 ? ['the running turn'] : []), ...(s.queued > 0 ? [`${s.queued} queued message${s.queued === 1 ? '' : 's'}`] : [])];
  return parts.length > 0 ? `Stopped ${parts.join(' and ')}. ` : '';
}

export const CHAT_COMMANDS: readonly ChatCommand[] = [
  {
    name: 'help',
    description: 'what this bot can do',
    run: async () =>
      [
        'Send any message to talk to the agent. Commands:',
        ...CHAT_COMMANDS.filter((c) => !c.hidden).map((c) => `/${c.name} — ${c.description}`),
      ].join('\n'),
  },
  {
    name: 'new',
    description: 'start a fresh conversation (stops the running turn; the current one is archived)',
    run: async ({ ctx, threads, message }) => {
      const previous = threads.current(message.ref);
      const stopped = previous ? await stopOpenTurns(ctx, previous) : { running: 0, queued: 0 };
      const t = await threads.replace(message.ref);
      return `${stoppedText(stopped)}Started a new conversation (thread ${t.id}). The previous one is archived.`;
    },
  },
  {
    name: 'stop',
    description: 'stop the running turn',
    run: async ({ ctx, threads, message }) => {
      const threadId = threads.current(message.ref);
      if (!threadId) return 'Nothing is running.';
      const thread = await ctx.client.getThread(threadId);
      const open = (thread.turns ?? []).filter((t) => !FINISHED_TURN_STATUSES.includes(t.status));
      const active = open.find((t) => t.status === 'running' || t.status === 'awaiting_approval') ?? open[0];
      if (!active) return 'Nothing is running.';
      try {
        await ctx.client.cancelTurn(threadId, active.id);
      } catch (err) {
        if (err instanceof RuntimeApiError && err.status === 409) return 'That turn had already finished.';
        throw err;
      }
      const queued = open.length - 1;
      return `Stopping the current turn.${queued > 0 ? ` ${queued} more queued message${queued === 1 ? '' : 's'} will still run.` : ''}`;
    },
  },
  {
    name: 'status',
    description: 'thread, turn, runtime and queue state',
    run: async ({ ctx, threads, message }) => {
      const lines: string[] = [];
      let runtimeUp = true;
      try {
        const h = await ctx.client.health();
        lines.push(`Runtime: ${h.status} (version ${h.version})`);
      } catch (err) {
        runtimeUp = false;
        lines.push(`Runtime: not reachable (${err instanceof RuntimeUnavailableError ? 'restarting or stopped' : (err as Error).message})`);
      }
      const threadId = threads.current(message.ref);
      if (!threadId) lines.push('Thread: none yet (your next message starts one)');
      else if (runtimeUp) {
        try {
          const t = await ctx.client.getThread(threadId);
          const last = t.turns?.at(-1);
          lines.push(`Thread: ${t.id} (${t.status}, model ${t.model}${t.archived ? ', archived' : ''})`);
          lines.push(last ? `Last turn: ${last.status}` : 'Last turn: none yet');
        } catch (err) {
          lines.push(`Thread: ${threadId} (${(err as Error).message})`);
        }
      } else lines.push(`Thread: ${threadId}`);
      const pending = ctx.store.latestPendingApproval(message.conversation);
      if (pending) lines.push(`Waiting for approval: ${pending.tool} (${pending.approvalId}) — /approve or /deny`);
      lines.push(`Queue: ${Math.max(0, ctx.store.inboxDepth() - 1)} message(s) waiting for the runtime, ${ctx.store.outboxDepth()} reply part(s) waiting to be sent`);
      return lines.join('\n');
    },
  },
  {
    name: 'model',
    description: 'show or set the model of this conversation: /model [name]',
    run: async ({ ctx, threads, message, args }) => {
      const thread = await threads.ensure(message.ref);
      if (!args) {
        const t = await ctx.client.getThread(thread.id);
        return `Model: ${t.model}. Change it with /model <name>.`;
      }
      try {
        const t = await ctx.client.patchThread(thread.id, { model: args });
        return `Model set to ${t.model} for this conversation.`;
      } catch (err) {
        if (err instanceof RuntimeApiError && err.status === 400) return `The runtime refused that model: ${err.message}`;
        throw err;
      }
    },
  },
  { name: 'approve', description: 'approve the waiting tool call: /approve [id]', run: (call) => decide(call, 'approve') },
  { name: 'deny', description: 'deny the waiting tool call: /deny [id]', run: (call) => decide(call, 'deny') },
  {
    name: 'pair',
    description: 'pair this chat with a code from `tether pair code`: /pair CODE',
    run: async ({ message }) => (message.ref.kind === 'group' ? 'This group is already paired.' : 'You are already paired: just send a message.'),
  },
  {
    name: 'whoami',
    description: 'your ids on this platform',
    run: async ({ ctx, message }) => {
      const r = message.ref;
      const role = ctx.roleOf(message.senderId) ?? 'member of an allowed chat';
      return `Your ${r.platform} id: ${message.senderId} (${role})\nChat id: ${r.chatId}${r.topicId !== undefined ? `, topic ${r.topicId}` : ''} (${r.kind})\nConversation: ${conversationKey(r)}`;
    },
  },
  { name: 'every', description: 'schedule a prompt (later release): /every <cron> <prompt>', run: async () => LATER },
  { name: 'schedules', description: 'list schedules (later release)', run: async () => LATER },
];

/** Name and description of every command, for the platform's command menu (Telegram setMyCommands). */
export const COMMAND_MENU: ReadonlyArray<{ name: string; description: string }> = CHAT_COMMANDS.filter((c) => !c.hidden).map(({ name, description }) => ({ name, description }));

export function findCommand(name: string): ChatCommand | undefined {
  return CHAT_COMMANDS.find((c) => c.name === name);
}

export function unknownCommandText(name: string): string {
  return `There is no /${name} command. Send /help for the list.`;
}
