// .env.example lists every variable of the README's configuration table, so a user copying it sees every setting.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const example = readFileSync(new URL('.env.example', root), 'utf8');

/** Variables named in the first cell of the README's table rows (`| `A` / `B` | …`). */
function tableVariables(text: string): string[] {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const cell = /^\|([^|]+)\|/.exec(line)?.[1] ?? '';
    for (const m of cell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.add(m[1]!);
  }
  return [...names];
}

describe('.env.example', () => {
  it('mentions every variable of the README configuration table', () => {
    const variables = tableVariables(readme);
    expect(variables).toEqual(expect.arrayContaining(['TETHER_ALLOWED_ORIGINS', 'TETHER_CONTEXT_CHARS', 'TETHER_SHELL_TIMEOUT_S', 'TETHER_TOOL_OUTPUT_MAX']));
    const listed = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!));
    expect(variables.filter((v) => !listed.has(v))).toEqual([]);
  });
});
