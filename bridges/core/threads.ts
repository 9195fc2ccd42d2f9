// Conversation → runtime thread: found by metadata {platform, bot, conversation}, cached in the store, verified once per run.
import { RuntimeApiError, type Thread } from '../../lib/runtime-client.js';
import type { ConversationRef } from './adapter.js';
import { conversationKey } from './adapter.js';
import type { BridgeContext } from './context.js';

/**
 * What marks a thread as one bridge's conversation: the platform, the bridge's identity (`bot`: two
 * bots of one platform on one runtime must not relay each other's threads), the conversation key
 * and its kind (so a thread can be relayed without guessing from a platform's id format).
 */
export function threadMetadata(ref: ConversationRef, bot: string): Record<string, string> {
  return { platform: ref.platform, bot, conversation: conversationKey(ref), chat_kind: ref.kind };
}

/** The metadata keys a conversation's thread is found by (its kind may be learned later, so it is not one). */
const LOOKUP_KEYS = ['platform', 'bot', 'conversation'] as const;

/** Rebuilds a reference from thread metadata, for threads this bridge has not seen a message in; undefined without a known kind. */
export function refFromMetadata(metadata: Record<string, string>): ConversationRef | undefined {
  const conversation = metadata.conversation;
  const platform = metadata.platform;
  if (!conversation || !platform) return undefined;
  // Chat ids may hold ':' on no platform we know, so the first ':' separates the topic.
  const i = conversation.indexOf(':');
  const chatId = i < 0 ? conversation : conversation.slice(0, i);
  const topicId = i < 0 ? undefined : conversation.slice(i + 1);
  const kind = metadata.chat_kind;
  if (kind !== 'group' && kind !== 'private') return undefined;
  return { platform: platform as ConversationRef['platform'], chatId, ...(topicId !== undefined ? { topicId } : {}), kind };
}

export class ThreadDirectory {
  private readonly verified = new Set<string>();

  constructor(private readonly ctx: BridgeContext) {}

  /** The conversation's live thread, creating one when it has none (or its thread is gone or archived). */
  async ensure(ref: ConversationRef): Promise<Thread | { id: string }> {
    const { store, client } = this.ctx;
    const key = conversationKey(ref);
    const known = store.conversation(key)?.threadId ?? null;
    if (known && this.verified.has(known)) return { id: known };
    if (known) {
      try {
        const t = await client.getThread(known);
        if (!t.archived) return this.adopt(ref, await this.withCurrentMetadata(ref, t));
      } catch (err) {
        if (!(err instanceof RuntimeApiError && err.status === 404)) throw err;
      }
    }
    return this.adopt(ref, await this.findOrCreate(ref));
  }

  /**
   * The newest live thread with the conversation's metadata, else a new one, in one request: the
   * runtime looks up and creates in one transaction. Also after this store was lost, it finds
   * the thread the conversation had.
   */
  private async findOrCreate(ref: ConversationRef): Promise<Thread> {
    const { client } = this.ctx;
    const metadata = threadMetadata(ref, this.ctx.identity);
    const title = `${ref.platform} ${conversationKey(ref)}`;
    try {
      return await client.createThread({ title, metadata, reuse: LOOKUP_KEYS });
    } catch (err) {
      // A runtime from before `reuse` refuses the field: look up, then create, as it was done then.
      if (!(err instanceof RuntimeApiError && err.status === 400)) throw err;
    }
    const lookup = Object.fromEntries(LOOKUP_KEYS.map((k) => [k, metadata[k]!]));
    const found = (await client.listThreads({ metadata: lookup })).filter((t) => !t.archived);
    const newest = found.sort((a, b) => b.created_at.localeCompare(a.created_at))[0];
    return newest ?? (await client.createThread({ title, metadata }));
  }

  /** `/new`: archive the current thread (if any) and start a fresh one. */
  async replace(ref: ConversationRef): Promise<Thread> {
    const { store, client } = this.ctx;
    const key = conversationKey(ref);
    const known = store.conversation(key)?.threadId ?? null;
    if (known) {
      try {
        await client.patchThread(known, { archived: true });
      } catch (err) {
        if (!(err instanceof RuntimeApiError && err.status === 404)) throw err;
      }
      this.verified.delete(known);
    }
    const t = await client.createThread({ title: `${ref.platform} ${key}`, metadata: threadMetadata(ref, this.ctx.identity) });
    this.adopt(ref, t);
    return t;
  }

  /** The thread id the store has for the conversation, without asking the runtime. */
  current(ref: ConversationRef): string | undefined {
    return this.ctx.store.conversation(conversationKey(ref))?.threadId ?? undefined;
  }

  forget(threadId: string): void {
    this.verified.delete(threadId);
  }

  /**
   * The platform moved the conversation (its store rows already name `ref`): make its thread's
   * metadata say so, so a lookup by metadata (a fresh bridge store, another client) finds it.
   * Best effort and not awaited by callers; if the runtime is away, the conversation's next message
   * verifies the thread again (it is no longer marked verified) and fixes the metadata then.
   */
  async syncMoved(ref: ConversationRef): Promise<void> {
    const threadId = this.current(ref);
    if (!threadId) return;
    this.verified.delete(threadId);
    try {
      await this.withCurrentMetadata(ref, await this.ctx.client.getThread(threadId));
    } catch (err) {
      this.ctx.logger.info('thread metadata not updated after a move yet; retried with the next message', { conversation: conversationKey(ref), thread: threadId, error: err });
    }
  }

  /** The thread, its metadata first patched to name `ref` when it names another conversation (keys of others kept). */
  private async withCurrentMetadata(ref: ConversationRef, t: Thread): Promise<Thread> {
    const wanted = threadMetadata(ref, this.ctx.identity);
    const metadata = t.metadata ?? {};
    if (Object.entries(wanted).every(([k, v]) => metadata[k] === v)) return t;
    const patched = await this.ctx.client.patchThread(t.id, { metadata: { ...metadata, ...wanted } });
    this.ctx.logger.info('thread metadata updated to the moved conversation', { thread: t.id, from: metadata.conversation, to: wanted.conversation });
    return patched;
  }

  private adopt(ref: ConversationRef, t: Thread): Thread {
    this.ctx.store.setConversationThread(conversationKey(ref), ref, t.id, this.ctx.now());
    this.verified.add(t.id);
    return t;
  }
}
