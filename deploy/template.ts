// Fills the files of deploy/templates: {{NAME}} placeholders from a table of values, every placeholder known, nothing left over.
import { readFileSync } from 'node:fs';
import { TetherError } from '../lib/errors.js';
import { templatesDir } from './package-files.js';

export function readTemplate(name: string): string {
  return readFileSync(`${templatesDir()}${name}`, 'utf8');
}

/** Replaces each {{NAME}}; a placeholder without a value, or a value without a placeholder, is a bug in the caller. */
export function fillTemplate(name: string, text: string, values: Readonly<Record<string, string>>): string {
  const used = new Set<string>();
  const filled = text.replace(/\{\{([A-Z_]+)\}\}/g, (_whole, key: string) => {
    const value = values[key];
    if (value === undefined) throw new TetherError('template_value_missing', `template ${name} needs a value for {{${key}}}`);
    used.add(key);
    return value;
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) throw new TetherError('template_value_unused', `template ${name} has no {{${unused.join('}}, {{')}}}`);
  return filled;
}
