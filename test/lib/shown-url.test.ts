// URLs as messages show them: no user name, password, query or fragment, where credentials hide.
import { describe, expect, it } from 'vitest';
import { redact } from '../../lib/log.js';
import { shownUrl, withoutUrlCredentials } from '../../lib/shown-url.js';

describe('shownUrl', () => {
  it.each([
    ['http://user:pass@host/v1', 'http://host/v1'],
    ['https://TOKEN@api.example.com/v1', 'https://api.example.com/v1'],
    ['http://127.0.0.1:11434/v1?key=abc#frag', 'http://127.0.0.1:11434/v1'],
    ['https://api.openai.com/v1', 'https://api.openai.com/v1'],
    ['http://u:p@h:8080/api/v1/', 'http://h:8080/api/v1/'],
    ['not a url?with=query', 'not a url'],
  ])('%s → %s', (url, shown) => {
    expect(shownUrl(url)).toBe(shown);
  });
});

describe('URL credentials in free text and log lines', () => {
  it('drops the userinfo of every URL in a text', () => {
    expect(withoutUrlCredentials('fetch http://u:p@h/v1 then https://tok@x.y/z, then mailto:a@b')).toBe('fetch http://h/v1 then https://x.y/z, then mailto:a@b');
  });

  it('a log line never carries a URL password, registered or not', () => {
    expect(redact('{"url":"http://alice:pw@llm.internal/v1"}')).toBe('{"url":"http://[redacted]@llm.internal/v1"}');
  });
});
