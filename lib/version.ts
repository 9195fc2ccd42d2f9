// The version reported by /health and `tether --version`, read once from package.json.
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // compiled (dist/lib) and source (lib) sit at different depths
    }
  }
  return '0.0.0';
}

export const VERSION = readVersion();
