// What a chat platform must provide; everything else (access, pairing, inbox, delivery) lives in bridges/core.

export type PlatformName = 'telegram' | 'feishu' | 'slack' | 'discord';
export const PLATFORM_NAMES: readonly PlatformName[] = ['telegram', 'feishu', 'slack', 'discord'];

export function isPlatformName(name: string): name is PlatformName {
  return (PLATFORM_NAMES as readonly string[]).includes(name);
}

/** Where a reply goes: one conversation = one runtime thread. */
export interface ConversationRef {
  platform: PlatformName;
  /** Platform chat id (Telegram chat id, Feishu oc_…, Slack C…/D…, Discord channel). */
  chatId: string;
  /** Forum topic / Feishu thread / Slack thread_ts / Discord thread; absent for the chat itself. */
  topicId?: string;
  kind: 'private' | 'group';
}

/** The stable key of a conversation: `<chat id>` or `<chat id>:<topic id>` (thread metadata `conversation`). */
export function conversationKey(c: Pick<ConversationRef, 'chatId' | 'topicId'>): string {
  return c.topicId === undefined ? c.chatId : `${c.chatId}:${c.topicId}`;
}

export interface Sender {
  /** Platform user id (Telegram numeric id, Feishu ou_…). */
  id: string;
  /** Display name, for logs and owner prompts only; never used for access decisions. */
  name?: string;
}

export interface InboundMessage {
  /**
   * Unique per platform delivery of this message across restarts and redeliveries
   * (Telegram: `<bot id>:<update_id>`, Feishu: message_id). Used for dedupe and as the Idempotency-Key.
   */
  dedupeKey: string;
  conversation: ConversationRef;
  sender: Sender;
  /**
   * What the person wrote. A command for this bot reads `/name args`: the adapter removes any
   * platform suffix that names this bot (Telegram's `/new@this_bot`) and never hands over a
   * command addressed to another bot (`/new@other_bot`), so the core needs to know no bot names
   * and a platform without such suffixes (Slack, Discord) has nothing to do.
   */
  text: string;
  /** In groups: the bot was mentioned, replied to, or sent a command. Always true in private chats. */
  addressed: boolean;
  /** Platform message id, so replies can quote it where the platform allows. */
  messageId?: string;
  /** When the platform says the message was sent (ms since epoch). */
  sentAt: number;
  /**
   * Set when the message holds nothing the agent can read (a photo without caption, a sticker, a
   * voice message…): what it was, as a phrase for a person ("a photo"); `text` is then empty. The
   * core answers such a message once, saying why, and never relays it. A caption counts as text.
   */
  unsupported?: string;
}

/** A button press on an approval prompt. */
export interface InboundAction {
  dedupeKey: string;
  conversation: ConversationRef;
  sender: Sender;
  approvalId: string;
  decision: 'approve' | 'deny';
  /**
   * Shows a short answer to the presser (Telegram answerCallbackQuery, Feishu card toast). The core
   * calls it once for every press it takes, within a few seconds (BridgeTiming.pressAnswerMs), also
   * when the decision takes longer; the adapter does not answer a press itself.
   */
  answer(text: string): Promise<void>;
}

export interface InboundHandlers {
  /** Resolves once the message is on disk; the adapter confirms it to the platform only after. */
  onMessage(m: InboundMessage): Promise<void>;
  /** Resolves once the press is on disk, before it is decided (that happens in the background, see InboundAction.answer). */
  onAction(a: InboundAction): Promise<void>;
  /** The platform moved a conversation (Telegram group → supergroup). */
  onConversationMoved?(from: ConversationRef, to: ConversationRef): Promise<void>;
}

export interface SentRef {
  messageId: string;
}

export interface ApprovalPrompt {
  approvalId: string;
  tool: string;
  /** The exact command or path and a content summary, as the runtime sent it. */
  summary: string;
  /**
   * What to show beside the buttons, within the core's limit: the whole prompt, or (for a long
   * summary, already sent whole as the messages before it) where it is, its length and its end.
   * Shown as it is, never cut: an adapter that cannot fit it throws DeliveryError `too_long`.
   */
  text: string;
}

/**
 * Pacing the core applies to everything it sends to one platform (messages, typing, edits), as
 * token buckets (bridges/core/pacing.ts): each allows `burst` sends at once, then refills at the
 * sustained rate, so any window of T holds at most burst + rate × T sends. A rate of 0 means no
 * limit. Bursts default to 1 (strict spacing).
 */
export interface SendLimits {
  /** Sustained gap between sends into one private chat. */
  privateIntervalMs: number;
  /** Sustained sends per minute into one group chat (its topics share it). */
  groupPerMinute: number;
  /** Sustained sends per second across the whole bot. */
  globalPerSecond: number;
  /** Sends one private chat may take at once before the interval applies. */
  privateBurst?: number;
  groupBurst?: number;
  globalBurst?: number;
  /**
   * Sends in flight at once across the bot (default: no cap). Keeps the connection pool small and
   * warm: a send that must first open a connection leaves late and arrives bunched with later
   * ones, which the platform counts as a burst.
   */
  maxInFlight?: number;
}

/**
 * Why a send failed, classified by the adapter from the platform's own error so the core can
 * act without knowing the platform.
 */
export type DeliveryFailure =
  | { kind: 'retry_after'; seconds: number } // flood control: wait, then retry the same request
  | { kind: 'transient' } // network, 5xx: retry with backoff
  | { kind: 'too_long' } // re-chunk smaller and retry
  | { kind: 'moved'; to: ConversationRef } // conversation has a new id: move it and resend there
  | { kind: 'gone'; reason: string } // blocked, chat or topic deleted/closed: drop the conversation's pending rows, never elsewhere
  | { kind: 'rejected'; reason: string } // the platform refused this one message (a 4xx we do not know): drop it alone, keep the conversation
  | { kind: 'fatal'; reason: string }; // bad token and the like: stop the bridge

export class DeliveryError extends Error {
  constructor(
    readonly failure: DeliveryFailure,
    message: string,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export interface ChatAdapter {
  readonly platform: PlatformName;
  /** Per message, in code points (Telegram 4096; the core keeps a margin). */
  readonly textLimit: number;
  readonly limits: SendLimits;
  /** Connects and begins delivering inbound messages; resolves once receiving has started. */
  start(handlers: InboundHandlers): Promise<void>;
  /** Stops receiving and closes connections; resolves when nothing is in flight. */
  stop(): Promise<void>;
  /** Sends plain text. Throws DeliveryError. `key` is stable across retries (platform idempotency where it exists). */
  send(to: ConversationRef, text: string, key: string): Promise<SentRef>;
  /** Shows "typing…" for a few seconds. Best effort, but throws DeliveryError `retry_after` under flood control (the core then holds the chat's budget). */
  typing?(to: ConversationRef): Promise<void>;
  /** Sends an approval request with Approve/Deny buttons. Throws DeliveryError. */
  askApproval?(to: ConversationRef, prompt: ApprovalPrompt, key: string): Promise<SentRef>;
  /** Marks an approval prompt decided or expired (edit the message to `text`, remove the buttons). Best effort. */
  markApprovalDecided?(to: ConversationRef, sent: SentRef, text: string): Promise<void>;
  /** Health the adapter wants reported (poll conflicts, connection state). */
  health?(): Record<string, unknown>;
}
