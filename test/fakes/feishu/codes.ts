// The Feishu codes the fake answers with: code, the HTTP status production pairs it with, and its own wording.
//
// Statuses and texts come from the open platform's error tables (send, reply, update and chat pages list every IM
// code as HTTP 400) and notes/feishu.md §1.3, §4. Where production's status is not documented the row says so.
// A fault or a test may always override the status, because a bridge must read both shapes the SDK produces:
// HTTP 200 + code != 0 resolves, any other status rejects with an AxiosError carrying the body.

export interface FeishuCode {
  code: number;
  status: number;
  msg: string;
}

export const FEISHU_CODES = {
  // REST: tokens and rate limits (frequency-control.md: 429 + x-ogw-ratelimit-reset, seconds)
  rateLimited: { code: 99991400, status: 429, msg: 'request trigger frequency limit' },
  missingToken: { code: 99991661, status: 400, msg: 'Missing access token for authorization. Please make a request with token attached.' },
  // Not documented; node-sdk#143 reports the SDK throwing on it, so 400. Override with status 200 for the resolving shape.
  invalidTenantToken: { code: 99991663, status: 400, msg: 'Invalid access token for authorization. Please make a request with token attached.' },
  invalidAppToken: { code: 99991664, status: 400, msg: 'Invalid app access token.' },
  // tenant_access_token/internal (answered with HTTP 200 so the SDK reaches its "no tenant_access_token" error)
  invalidParam: { code: 10003, status: 200, msg: 'invalid param' },
  appSecretInvalid: { code: 10014, status: 200, msg: 'app secret invalid' },

  // IM (send, reply, update, patch, delete, reactions): all HTTP 400 in the tables
  imInvalidParam: { code: 230001, status: 400, msg: 'Your request contains an invalid request parameter.' },
  botNotInChat: { code: 230002, status: 400, msg: 'The bot can not be outside the group.' },
  messageRecalled: { code: 230011, status: 400, msg: 'The message is recalled.' },
  chatRateLimited: { code: 230020, status: 400, msg: 'This operation triggers the frequency limit.' },
  contentTooLong: { code: 230025, status: 400, msg: 'The length of the message content reaches its limit.' },
  noPermissionToSpeak: { code: 230035, status: 400, msg: 'Send Message Permission deny.' },
  userBlockedBot: { code: 230053, status: 400, msg: 'The user has stopped the bot from sending messages.' },
  unsupportedForType: { code: 230054, status: 400, msg: 'This operation is not supported for this message type.' },
  notSender: { code: 230071, status: 400, msg: 'The operator is not the sender of the message.' },
  editLimitReached: { code: 230072, status: 400, msg: 'The message has reached the number of times it can be edited.' },
  messageDeleted: { code: 230110, status: 400, msg: 'Action unavailable as the message has been deleted.' },
  messageNotFound: { code: 231003, status: 400, msg: 'The message is not found.' },
  // im/v1/chats
  invalidChatId: { code: 232006, status: 400, msg: 'Your request specifies a chat_id which is invalid.' },
  botOutOfChat: { code: 232011, status: 400, msg: 'Operator can NOT be out of the chat.' },

  // /callback/ws/endpoint (ws-client/enum.ts; only 1000040343 is retried by the SDK, every other code is fatal)
  systemBusy: { code: 1, status: 200, msg: 'system busy' },
  forbidden: { code: 403, status: 200, msg: 'forbidden' },
  authFailed: { code: 514, status: 200, msg: 'auth failed' },
  endpointInternalError: { code: 1000040343, status: 200, msg: 'internal error' },
  exceedConnLimit: { code: 1000040350, status: 200, msg: 'exceed conn limit' },
} as const satisfies Record<string, FeishuCode>;

export type FeishuCodeName = keyof typeof FEISHU_CODES;

const byNumber = new Map<number, FeishuCode>(Object.values(FEISHU_CODES).map((c) => [c.code, c]));

/** The row of a code number, for faults given as a bare number. */
export function feishuCode(code: number): FeishuCode | undefined {
  return byNumber.get(code);
}

/** Thrown inside the fake's handlers; the router turns it into the answer. */
export class FeishuApiError extends Error {
  constructor(
    readonly row: FeishuCode,
    readonly detail?: string,
  ) {
    super(detail ? `${row.msg} ${detail}` : row.msg);
  }
}
