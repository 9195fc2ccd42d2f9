// Env files as both systemd (EnvironmentFile=) and dotenv (lib/config) read them: one NAME=value a line, quoted only when it must be.
import { parse as parseDotenv } from 'dotenv';
import { TetherError } from '../lib/errors.js';

/** Characters both readers take bare. */
const BARE = /^[A-Za-z0-9_@%+=:,./-]*$/;
/** Inside single quotes neither reader interprets anything; a quote or a line break cannot be written safely. */
const SINGLE_QUOTABLE = /^[^'\n\r\0]*$/;

export type EnvEntries = ReadonlyArray<readonly [name: string, value: string]>;

function line(name: string, value: string): string {
  if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new TetherError('bad_env_name', `${JSON.stringify(name)} is not an environment variable name`);
  if (BARE.test(value)) return `${name}=${value}`;
  // eslint-disable-next-line no-control-regex
  if (SINGLE_QUOTABLE.test(value) && !/[\x00-\x08\x0b-\x1f\x7f]/.test(value)) return `${name}='${value}'`;
  // The value is not shown: it may be a secret.
  throw new TetherError('bad_env_value', `the value of ${name} has a quote, a line break or a control character`, 'such a value cannot be written safely into an env file; check what was pasted');
}

/** `header` lines become comments; entries keep their order. */
export function renderEnvFile(header: readonly string[], entries: EnvEntries): string {
  return [...header.map((h) => `# ${h}`), ...entries.map(([name, value]) => line(name, value)), ''].join('\n');
}

export function parseEnvFile(text: string): Record<string, string> {
  return parseDotenv(text);
}
