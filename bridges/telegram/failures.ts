// Telegram errors → DeliveryFailure, and one-line descriptions that never carry the token-bearing URL.
import { GrammyError, HttpError } from './grammy.js';
import { HttpBodyTooLargeError, HttpTimeoutError } from '../../lib/http.js';
import type { ConversationRef, DeliveryFailure } from '../core/adapter.js';

/** Telegram's own wording, lower-cased, for matching; see docs/telegram.md for what each means. */
const GONE_DESCRIPTIONS = [
  'bot was blocked by the user',
  'user is deactivated',
  'bot was kicked',
  'bot is not a member',
  'chat not found',
  'topic_closed',
  'topic_deleted',
  'message thread not found',
  'have no rights to send',
  'not enough rights to send',
  'chat_write_forbidden',
];
const TOO_LONG_DESCRIPTIONS = ['message is too long', 'text is too long'];

/** The one sentence for a refused token, at start, while polling and while sending. */
export const TOKEN_REFUSED = 'Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized): copy the token again from @BotFather (/mybots → API Token) into telegram.env';

/** The one sentence for a 404 to a method: Telegram's own answer, or a web server's page at a wrong root (`detail` says which). */
function wrongApiRoot(detail: string): string {
  return `Telegram answered 404 (${detail}): TELEGRAM_API_ROOT or TELEGRAM_BOT_TOKEN is wrong`;
}

export const POLL_CONFLICT = 'terminated by other getupdates';
export const WEBHOOK_ACTIVE = 'webhook is active';

export function isGrammyError(err: unknown): err is GrammyError {
  return err instanceof GrammyError;
}

/** What the core should do about a failed send into `to`. */
export function classifyTelegramFailure(err: unknown, to: ConversationRef): DeliveryFailure {
  // Telegram always answers JSON: a 404 page comes from something else at TELEGRAM_API_ROOT, and retrying will not change it.
  if (notJsonStatus(err) === 404) return { kind: 'fatal', reason: wrongApiRoot('not JSON') };
  if (!(err instanceof GrammyError)) return { kind: 'transient' };
  const description = (err.description ?? '').toLowerCase();
  const retryAfter = err.parameters?.retry_after;
  if (err.error_code === 429 || retryAfter !== undefined) return { kind: 'retry_after', seconds: Math.max(1, retryAfter ?? 3) };
  const migrateTo = err.parameters?.migrate_to_chat_id;
  if (migrateTo !== undefined) return { kind: 'moved', to: { platform: 'telegram', chatId: String(migrateTo), kind: 'group' } };
  if (err.error_code === 401) return { kind: 'fatal', reason: TOKEN_REFUSED };
  if (err.error_code === 404 && description.includes('not found') && !description.includes('chat')) {
    return { kind: 'fatal', reason: wrongApiRoot(err.description) };
  }
  if (err.error_code >= 500) return { kind: 'transient' };
  if (TOO_LONG_DESCRIPTIONS.some((d) => description.includes(d))) return { kind: 'too_long' };
  if (err.error_code === 403 || GONE_DESCRIPTIONS.some((d) => description.includes(d))) {
    return { kind: 'gone', reason: `${err.description}${to.topicId ? ` (topic ${to.topicId})` : ''}` };
  }
  // Any other 4xx is about this request (empty text, a bad entity…): it would fail the same way
  // again, so it is dropped, but the conversation and the rest of its replies are not.
  return { kind: 'rejected', reason: err.description || `error ${err.error_code}` };
}

/** The status of an answer that was not JSON (BotApiAnswerError inside grammY's HttpError), when that is what failed. */
function notJsonStatus(err: unknown): number | undefined {
  const status = err instanceof HttpError ? (err.error as { status?: unknown } | undefined)?.status : undefined;
  return typeof status === 'number' ? status : undefined;
}

/**
 * `sendMessage: 400 Bad Request: chat not found`, `getUpdates: network error (ECONNREFUSED)`,
 * `getUpdates: timed out`, `sendMessage: timed out (no response within 30000 ms)` or
 * `getMe: HTTP 502, not JSON`; never the URL, which carries the token.
 */
export function describeTelegramError(err: unknown, method?: string): string {
  if (err instanceof GrammyError) return `${err.method}: ${err.error_code} ${err.description}`;
  if (err instanceof HttpError) {
    // grammY's message names the method; its cause is our fetch's error (a socket error with its
    // code, HttpTimeoutError, HttpBodyTooLargeError, an AbortError, BotApiAnswerError) or grammY's own timeout.
    const name = /'([A-Za-z]+)'/.exec(err.message)?.[1] ?? method ?? 'request';
    const inner = err.error as { code?: unknown; name?: unknown; message?: unknown } | undefined;
    const status = notJsonStatus(err);
    if (status !== undefined) return `${name}: HTTP ${status}, not JSON`;
    // Our own timeouts and limit say which wait ran out, or what was too large, and never name the URL.
    if (inner instanceof HttpTimeoutError) return `${name}: timed out (${inner.message})`;
    if (inner instanceof HttpBodyTooLargeError) return `${name}: ${inner.message}`;
    if (/timed out/i.test(`${err.message} ${String(inner?.message)}`)) return `${name}: timed out`;
    const why = [inner?.code, inner?.name].find((v) => typeof v === 'string' && v !== 'Error');
    return `${name}: network error${why ? ` (${String(why)})` : ''}`;
  }
  if (err instanceof Error) return `${method ?? 'request'}: ${err.name}`;
  return `${method ?? 'request'}: failed`;
}
