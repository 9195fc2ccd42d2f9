// docs/providers.md stays true to the provider table: every row, its key variable and default model.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROVIDERS } from '../../../lib/providers.js';

const doc = readFileSync(new URL('../../../docs/providers.md', import.meta.url), 'utf8');
const rows = new Map(
  doc
    .split('\n')
    .filter((l) => /^\| `[a-z0-9-]+` \|/.test(l))
    .map((l) => [/^\| `([a-z0-9-]+)`/.exec(l)?.[1] ?? '', l] as const),
);

describe('docs/providers.md', () => {
  it('lists exactly the rows of the provider table', () => {
    expect([...rows.keys()].sort()).toEqual(Object.keys(PROVIDERS).sort());
  });

  it.each(Object.entries(PROVIDERS))('documents %s with its base URL, key variable and default model', (name, spec) => {
    const row = rows.get(name) ?? '';
    expect(row).toContain(spec.baseUrl);
    for (const k of spec.keyEnv) expect(row).toContain(`\`${k}\``);
    if (spec.defaultModel) expect(row).toContain(`\`${spec.defaultModel}\``);
    else expect(row).toContain('set `TETHER_MODEL`');
  });

  it('explains every provider error code', () => {
    for (const code of ['provider_unauthorized', 'provider_rate_limited', 'provider_unavailable', 'provider_bad_request', 'provider_timeout', 'provider_stream_broken', 'provider_not_found']) {
      expect(doc).toMatch(new RegExp(`\\| \`${code}\` \\|`));
    }
  });
});
