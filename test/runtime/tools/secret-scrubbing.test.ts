// Tether's own secrets never reach the model or the events through a tool: content, summary and describe() are scrubbed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerSecret } from '../../../lib/log.js';
import { CappedOutput } from '../../../runtime/tools/capped-output.js';
import { findTool, toolsFor } from '../../../runtime/tools/registry.js';
import type { Tool } from '../../../runtime/tools/types.js';
import { contextFor, makeWorkspace, type TempWorkspace } from './workspace.js';

const SECRET = 'tether-runtime-token-7f3a9c2e41b8';
registerSecret(SECRET);

let t: TempWorkspace;
beforeEach(() => {
  t = makeWorkspace();
});
afterEach(() => t.remove());

const tool = (name: string): Tool => {
  const found = findTool(toolsFor('auto'), name);
  if (!found) throw new Error(`no tool ${name}`);
  return found;
};

describe('secret scrubbing of tool output', () => {
  it('shows [redacted] where a shell cat prints a registered secret, in the content and the summary', async () => {
    writeFileSync(join(t.workspace, 'runtime.token'), `${SECRET}\n`);
    const outcome = await tool('shell').run({ command: `cat runtime.token; echo ${SECRET}` }, contextFor(t.workspace));
    expect(outcome.content).toBe('[redacted]\n[redacted]\nexit 0');
    expect(outcome.summary).toBe('$ cat runtime.token; echo [redacted] → exit 0, 2 lines');
    expect(outcome.ok).toBe(true);
  });

  it('leaves secret-shaped text that is not a registered value alone', async () => {
    const text = 'curl "https://api.example.com/?token=abc123" -H "Authorization: Bearer abcdefghijklmnop"\n';
    writeFileSync(join(t.workspace, 'fetch.sh'), text);
    const outcome = await tool('read_file').run({ path: 'fetch.sh' }, contextFor(t.workspace));
    expect(outcome.content).toBe(text);
  });

  it('scrubs file text, directory listings and the describe() of approvals', async () => {
    writeFileSync(join(t.workspace, 'settings.conf'), `TETHER_TOKEN=${SECRET}\n`);
    writeFileSync(join(t.workspace, `${SECRET}.txt`), '');
    expect((await tool('read_file').run({ path: 'settings.conf' }, contextFor(t.workspace))).content).toBe('TETHER_TOKEN=[redacted]\n');
    const listing = await tool('list_dir').run({}, contextFor(t.workspace));
    expect(listing.content).toContain('[redacted].txt');
    expect(listing.content).not.toContain(SECRET);
    expect(tool('shell').describe({ command: `curl -H "Authorization: Bearer ${SECRET}" http://127.0.0.1:7878/v1/threads` })).toBe('$ curl -H "Authorization: Bearer [redacted]" http://127.0.0.1:7878/v1/threads');
    expect(tool('write_file').describe({ path: 'x.env', content: `${SECRET}\n` })).not.toContain(SECRET);
  });

  it('scrubs refusals that echo the path the model gave', async () => {
    const outcome = await tool('read_file').run({ path: `../${SECRET}` }, contextFor(t.workspace));
    expect(outcome.ok).toBe(false);
    expect(outcome.content).toContain('[redacted]');
    expect(`${outcome.content} ${outcome.summary}`).not.toContain(SECRET);
  });

  it('leaves no fragment of a secret that the output cap cut through', () => {
    for (let shift = 1; shift < SECRET.length; shift++) {
      const out = new CappedOutput(80);
      // The head keeps 40 bytes and ends `shift` bytes into one secret; the tail keeps 40 and starts `shift` bytes into another.
      out.append(Buffer.from(`${'h'.repeat(40 - shift)}${SECRET}${'m'.repeat(100)}`));
      out.append(Buffer.from(`${SECRET}${'t'.repeat(40 - SECRET.length + shift)}`));
      const text = out.text();
      for (let n = 4; n < SECRET.length; n++) {
        expect(text).not.toContain(SECRET.slice(0, n));
        expect(text).not.toContain(SECRET.slice(SECRET.length - n));
      }
      const cut = Number(/\((\d+) bytes\) cut/.exec(text)?.[1]);
      expect(text.length - text.indexOf('…]\n') - 3 + text.indexOf('\n[…') + cut).toBe(out.totalBytes);
    }
  });

  it('leaves no fragment of a secret where read_file cuts a line longer than the limit', async () => {
    writeFileSync(join(t.workspace, 'one-line.txt'), `${'a'.repeat(40)}${SECRET}${'z'.repeat(100)}\n`);
    const outcome = await tool('read_file').run({ path: 'one-line.txt' }, contextFor(t.workspace, { outputMax: 50 }));
    expect(outcome.content.startsWith(`${'a'.repeat(40)}\n[line 1 is longer`)).toBe(true);
  });

  it('scrubs the message of a tool that throws, which the runtime core shows the model', async () => {
    const { withSecretsScrubbed } = await import('../../../runtime/tools/registry.js');
    const throwing = withSecretsScrubbed({ ...tool('list_dir'), run: () => Promise.reject(new Error(`connect failed with ${SECRET}`)) });
    await expect(throwing.run({}, contextFor(t.workspace))).rejects.toThrow('connect failed with [redacted]');
  });
});
