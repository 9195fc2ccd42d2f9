// Request guards and query parsing as tables.
import { describe, expect, it } from 'vitest';
import { hostName, tokenMatches } from '../../../runtime/server/guards.js';
import { parseCursor, parseThreadChanges, parseThreadQuery } from '../../../runtime/server/validate.js';

describe('hostName', () => {
  it.each([
    ['127.0.0.1:7878', '127.0.0.1'],
    ['localhost', 'localhost'],
    ['[::1]:7878', '::1'],
    ['[::1]', '::1'],
    ['evil.example:80', 'evil.example'],
  ])('%s → %s', (header, name) => expect(hostName(header)).toBe(name));
});

describe('tokenMatches', () => {
  const token = 'a-token-of-some-length-123';
  it.each([
    [`Bearer ${token}`, true],
    [`bearer ${token}`, true],
    [`Bearer ${token}x`, false],
    [`Bearer ${token.slice(0, -1)}`, false],
    [token, false],
    ['Bearer ', false],
    [undefined, false],
  ])('%s → %s', (header, ok) => expect(tokenMatches(header, token)).toBe(ok));
});

describe('parseCursor', () => {
  const q = (s: string) => new URLSearchParams(s);
  it.each([
    ['', undefined, 42],
    ['after=0', undefined, 0],
    ['after=7', '3', 7],
    ['', '5', 5],
  ])('?%s with Last-Event-ID %s → %i', (query, header, expected) => expect(parseCursor(q(query), header, 42)).toBe(expected));
  it('refuses a cursor that is not a number', () => expect(() => parseCursor(q('after=-1'), undefined, 0)).toThrow(/cursor/));
});

describe('parseThreadQuery and parseThreadChanges', () => {
  it('reads limit, archived and metadata filters', () => {
    expect(parseThreadQuery(new URLSearchParams('limit=5&archived=false&metadata.platform=telegram&metadata.conversation=1:2'))).toEqual({ limit: 5, archived: false, metadata: { platform: 'telegram', conversation: '1:2' } });
    expect(() => parseThreadQuery(new URLSearchParams('sort=asc'))).toThrow(/query sort/);
  });
  it('null model and approval mean "follow the runtime"', () => {
    expect(parseThreadChanges({ model: null, approval: null })).toEqual({ model: null, approval: null });
    expect(() => parseThreadChanges({ model: '' })).toThrow(/field model/);
  });
});
