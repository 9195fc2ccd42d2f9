// A URL as messages, events and logs may show it: without user name, password, query or fragment, where credentials hide.

/**
 * `http://user:pass@host:8080/v1?key=…#x` → `http://host:8080/v1`. Enough to find the setting to
 * fix, nothing to log in with. Text that is not a URL loses anything that looks like userinfo, a
 * query or a fragment all the same.
 */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.href.replace(/\/$/, url.endsWith('/') ? '/' : '');
  } catch {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1').replace(/[?#].*$/s, '');
  }
}

/** `text` with the userinfo of every URL in it removed (`https://user:pass@host` → `https://host`): for error text from elsewhere. */
export function withoutUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, '$1');
}
