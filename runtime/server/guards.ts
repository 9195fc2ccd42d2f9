// Checks every request passes before a handler sees it: loopback Host, no foreign Origin, bearer token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isLoopbackHost } from '../../lib/config.js';
import { HttpError } from '../../lib/errors.js';

/** The Host header without its port; `[::1]:7878` → `::1`. */
export function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']') >= 0 ? host.indexOf(']') : undefined);
  const colon = host.lastIndexOf(':');
  return colon >= 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

/** A page in a browser can reach loopback by DNS rebinding: only loopback Host names are served. */
export function checkHost(headers: IncomingHttpHeaders): void {
  const host = headers.host;
  if (host === undefined || !isLoopbackHost(hostName(host))) {
    throw new HttpError(403, 'forbidden_host', `Host ${JSON.stringify(host ?? '')} is not a loopback name; the runtime answers only 127.0.0.1, ::1 and localhost`);
  }
}

/** Browsers send Origin; scripts on this host do not. Refuse it unless TETHER_ALLOWED_ORIGINS lists it. */
export function checkOrigin(headers: IncomingHttpHeaders, allowed: readonly string[]): void {
  const origin = headers.origin;
  if (origin === undefined) return;
  if (!allowed.includes(origin)) {
    throw new HttpError(403, 'forbidden_origin', `requests from web pages (Origin ${JSON.stringify(origin)}) are refused; add the origin to TETHER_ALLOWED_ORIGINS to allow it`);
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant time; hashing first makes the comparison length-independent too. */
export function tokenMatches(authorization: string | undefined, token: string): boolean {
  const presented = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim() ?? '';
  return timingSafeEqual(digest(presented), digest(token)) && presented.length > 0;
}

export function checkToken(headers: IncomingHttpHeaders, token: string): void {
  if (!tokenMatches(headers.authorization, token)) {
    throw new HttpError(401, 'unauthorized', 'missing or wrong bearer token: send Authorization: Bearer <token> (TETHER_TOKEN, or the runtime.token file in TETHER_STATE_DIR)');
  }
}
