// Which tools each approval mode offers, and that every tool keeps the promises the runtime core relies on.
import { describe, expect, it } from 'vitest';
import type { ApprovalMode } from '../../../lib/config.js';
import { TOOLS, findTool, toolsFor } from '../../../runtime/tools/registry.js';

const names = (mode: ApprovalMode) => toolsFor(mode).map((t) => t.schema.name);

describe('toolsFor', () => {
  it.each([
    ['ask', ['shell', 'read_file', 'write_file', 'list_dir']],
    ['auto', ['shell', 'read_file', 'write_file', 'list_dir']],
    ['readonly', ['read_file', 'list_dir']],
  ] as const)('%s offers %j', (mode, expected) => {
    expect(names(mode)).toEqual(expected);
  });

  it('marks shell and write_file risky, the readers not', () => {
    expect(Object.fromEntries(TOOLS.map((t) => [t.schema.name, { risky: t.risky, readonly: t.readonly }]))).toEqual({
      shell: { risky: true, readonly: false },
      read_file: { risky: false, readonly: true },
      write_file: { risky: true, readonly: false },
      list_dir: { risky: false, readonly: true },
    });
  });

  it('returns a fresh list, so a caller cannot change what others are offered', () => {
    toolsFor('auto').pop();
    expect(names('auto')).toHaveLength(4);
  });

  it('finds only offered tools by name', () => {
    expect(findTool(toolsFor('readonly'), 'read_file')?.schema.name).toBe('read_file');
    expect(findTool(toolsFor('readonly'), 'shell')).toBeUndefined();
    expect(findTool(toolsFor('auto'), 'rm_rf')).toBeUndefined();
  });

  it.each(TOOLS.map((t) => [t.schema.name, t] as const))('%s has an object schema and describes any garbage without throwing', (_name, tool) => {
    expect(tool.schema.parameters).toMatchObject({ type: 'object', properties: expect.any(Object) });
    for (const garbage of [undefined, null, 42, 'not json', '[]', [], { path: {} }, { command: null }]) {
      expect(typeof tool.describe(garbage)).toBe('string');
    }
  });
});
