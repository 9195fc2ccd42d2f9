// grammY as the bridge loads it: the web build on undici's fetch (which the runtime client loads anyway), not the Node build that pulls in node-fetch, whatwg-url and debug (about 10 MB resident).
import { fetch as undiciFetch } from 'undici';
import type { ApiClientOptions } from 'grammy/web';

export { Api, GrammyError, HttpError } from 'grammy/web';

/**
 * The fetch grammY calls. grammY types its option as node-fetch's signature; undici's fetch takes
 * the same (url, { method, headers, body, signal }) and answers a WHATWG Response, which is all
 * grammY uses (`res.json()`).
 */
export const telegramFetch = undiciFetch as unknown as NonNullable<ApiClientOptions['fetch']>;
