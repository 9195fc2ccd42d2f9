// grammY as the bridge loads it: the web build on our node:http fetch, not the Node build that pulls in node-fetch, whatwg-url and debug (about 16 MB resident).
import type { ApiClientOptions } from 'grammy/web';
import { botApiFetch } from './bot-api-fetch.js';

export { Api, GrammyError, HttpError } from 'grammy/web';

/**
 * The fetch grammY calls. grammY types its option as node-fetch's signature; botApiFetch takes
 * the same (url, { method, headers, body, signal }) and answers what grammY uses (`res.json()`).
 */
export const telegramFetch = botApiFetch as unknown as NonNullable<ApiClientOptions['fetch']>;
