// A ChatAdapter double that plays the platform: tests feed it messages and presses, it records every send.
import type { ApprovalPrompt, ChatAdapter, ConversationRef, InboundAction, InboundHandlers, InboundMessage, SendLimits, SentRef } from '../../../bridges/core/adapter.js';
import type { DeliveryError } from '../../../bridges/core/adapter.js';

export interface RecordedSend {
  to: ConversationRef;
  text: string;
  key: string;
  kind: 'text' | 'approval';
  approvalId?: string;
  at: number;
}

export class RecordingAdapter implements ChatAdapter {
  readonly platform = 'telegram' as const;
  readonly limits: SendLimits = { privateIntervalMs: 0, groupPerMinute: 60_000, globalPerSecond: 1000 };
  readonly sent: RecordedSend[] = [];
  /** Every send attempt, including the ones that failed. */
  readonly attempts: RecordedSend[] = [];
  readonly typings: ConversationRef[] = [];
  /** When each typing was shown (ms since epoch), in order. */
  readonly typingsAt: number[] = [];
  readonly decided: Array<{ messageId: string; text: string }> = [];
  /** Thrown by the next send attempts, in order. */
  readonly failures: DeliveryError[] = [];
  private handlers: InboundHandlers | undefined;
  private waiters = new Set<() => void>();
  private nextId = 1;
  private updateId = 1;

  constructor(
    readonly textLimit = 4096,
    private readonly withButtons = true,
  ) {}

  async start(handlers: InboundHandlers): Promise<void> {
    this.handlers = handlers;
  }

  async stop(): Promise<void> {
    this.handlers = undefined;
  }

  async send(to: ConversationRef, text: string, key: string): Promise<SentRef> {
    return this.record({ to, text, key, kind: 'text', at: Date.now() });
  }

  async typing(to: ConversationRef): Promise<void> {
    this.typings.push(to);
    this.typingsAt.push(Date.now());
    this.notify();
  }

  get askApproval(): ChatAdapter['askApproval'] {
    if (!this.withButtons) return undefined;
    return async (to: ConversationRef, prompt: ApprovalPrompt, key: string) => this.record({ to, text: prompt.text, key, kind: 'approval', approvalId: prompt.approvalId, at: Date.now() });
  }

  async markApprovalDecided(_to: ConversationRef, sent: SentRef, text: string): Promise<void> {
    this.decided.push({ messageId: sent.messageId, text });
    this.notify();
  }

  private record(s: RecordedSend): SentRef {
    this.attempts.push(s);
    const failure = this.failures.shift();
    this.notify();
    if (failure) throw failure;
    this.sent.push(s);
    this.notify();
    return { messageId: String(this.nextId++) };
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  // ---------- the person's side

  /** Delivers a message as the platform would; resolves when the bridge has committed it. */
  async say(from: { user: string; chat?: string; kind?: 'private' | 'group'; topic?: string; addressed?: boolean; name?: string; unsupported?: string }, text: string, dedupeKey?: string): Promise<InboundMessage> {
    if (!this.handlers) throw new Error('adapter not started');
    const m: InboundMessage = {
      dedupeKey: dedupeKey ?? `test:${this.updateId++}`,
      conversation: { platform: 'telegram', chatId: from.chat ?? from.user, kind: from.kind ?? 'private', ...(from.topic !== undefined ? { topicId: from.topic } : {}) },
      sender: { id: from.user, ...(from.name !== undefined ? { name: from.name } : {}) },
      text,
      addressed: from.addressed ?? true,
      sentAt: Date.now(),
      ...(from.unsupported !== undefined ? { unsupported: from.unsupported } : {}),
    };
    await this.handlers.onMessage(m);
    return m;
  }

  /** The platform moved a conversation (Telegram's group → supergroup upgrade); resolves when the bridge took it in. */
  async move(from: ConversationRef, to: ConversationRef): Promise<void> {
    if (!this.handlers?.onConversationMoved) throw new Error('adapter not started, or the bridge takes no moves');
    await this.handlers.onConversationMoved(from, to);
  }

  /** Presses an approval button; resolves with the answer the presser saw (which may come after the press was stored). */
  async press(from: { user: string; chat?: string; kind?: 'private' | 'group' }, approvalId: string, decision: 'approve' | 'deny', dedupeKey?: string): Promise<string> {
    if (!this.handlers) throw new Error('adapter not started');
    const answers: string[] = [];
    const a: InboundAction = {
      dedupeKey: dedupeKey ?? `press:${this.updateId++}`,
      conversation: { platform: 'telegram', chatId: from.chat ?? from.user, kind: from.kind ?? 'private' },
      sender: { id: from.user },
      approvalId,
      decision,
      answer: async (text) => {
        answers.push(text);
        this.notify();
      },
    };
    await this.handlers.onAction(a);
    const [answer] = await this.waitFor(() => answers.length > 0 && answers, 10_000, 'the answer to a press');
    return answer!;
  }

  /** Resolves once `match` holds for the sends so far; rejects after `timeoutMs`. */
  waitFor<T>(match: () => T | undefined | false, timeoutMs = 10_000, what = 'a send'): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = match();
        if (v !== undefined && v !== false) {
          this.waiters.delete(check);
          clearTimeout(timer);
          resolve(v);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; sent so far: ${JSON.stringify(this.sent.map((s) => `${s.to.chatId}: ${s.text.slice(0, 80)}`))}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Waits for a send into `chat` whose text matches, counting only sends after `after` sends. */
  waitForText(chat: string, pattern: RegExp | string, after = 0): Promise<RecordedSend> {
    const test = (t: string) => (typeof pattern === 'string' ? t.includes(pattern) : pattern.test(t));
    return this.waitFor(() => this.sent.slice(after).find((s) => s.to.chatId === chat && test(s.text)), 10_000, `${String(pattern)} in chat ${chat}`);
  }

  textsTo(chat: string): string[] {
    return this.sent.filter((s) => s.to.chatId === chat).map((s) => s.text);
  }
}
