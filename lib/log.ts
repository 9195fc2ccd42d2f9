// One logger for every process: JSON lines on stdout, with secrets redacted inside the logger.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

const secrets = new Set<string>();
// Shapes that are secrets wherever they appear (a grammY error carries the bot URL with its token).
const SECRET_PATTERNS: RegExp[] = [
  /\bbot\d{3,}:[A-Za-z0-9_-]{20,}/g,
  /\b\d{5,}:[A-Za-z0-9_-]{30,}\b/g,
  /(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
  /\b(sk|xoxb|xoxp|xapp)-[A-Za-z0-9-_]{10,}/g,
  /([?&](?:ticket|access_key|token|key)=)[^&\s"]+/gi,
];

/** Shorter values are not registered: replacing every `abc` in a tool's output would hide more than it protects. */
export const MIN_SECRET_LENGTH = 6;

/** Registers a value that must never be printed (tokens, keys, app secrets). */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

// Credentials of URLs, any length: where they stand in a URL (`:pass@`, `//user@`) the shape says what they are.
const urlCredentials = new Set<string>();

/**
 * Registers the password (or lone user name) of a URL: replaced where it stands in a URL
 * (`https://me:[redacted]@host`) whatever its length, and everywhere else too when it is long
 * enough for registerSecret. A five-character password is still a password.
 */
export function registerUrlCredential(value: string | undefined): void {
  if (!value) return;
  urlCredentials.add(value);
  registerSecret(value);
}

// Longest first, so a secret that contains another is replaced whole, not around the shorter one.
function secretsLongestFirst(): string[] {
  return [...secrets].sort((a, b) => b.length - a.length);
}

/**
 * Replaces the exact values registered with registerSecret by [redacted], and nothing else: for
 * output that is not a log line (tool output shown to the model), where the secret-shaped patterns
 * of redact would mangle legitimate text such as a `?token=` URL in the user's own code.
 */
export function scrubRegisteredSecrets(text: string): string {
  if (secrets.size === 0 && urlCredentials.size === 0) return text;
  let out = text;
  for (const s of secretsLongestFirst()) if (out.includes(s)) out = out.split(s).join('[redacted]');
  for (const c of urlCredentials) {
    for (const [before, after] of [[':', '@'], ['//', '@']] as const) out = out.split(`${before}${c}${after}`).join(`${before}[redacted]${after}`);
  }
  return out;
}

/**
 * Removes from `before` (text that a cut ended) a tail that begins a registered secret, and from
 * `after` (text that a cut started) a head that ends one, so cutting the middle out of a long output
 * never leaves most of a secret that scrubRegisteredSecrets could no longer recognise. What is
 * removed lies next to the cut, so it only widens what the cut already dropped.
 */
export function dropSecretFragmentsAtCut(before: string, after: string): { before: string; after: string } {
  let headCut = 0;
  let tailCut = 0;
  for (const s of secrets) {
    for (let n = Math.min(s.length - 1, before.length); n > headCut; n--) {
      if (before.endsWith(s.slice(0, n))) {
        headCut = n;
        break;
      }
    }
    for (let n = Math.min(s.length - 1, after.length); n > tailCut; n--) {
      if (after.startsWith(s.slice(s.length - n))) {
        tailCut = n;
        break;
      }
    }
  }
  return { before: before.slice(0, before.length - headCut), after: after.slice(tailCut) };
}

/** The user name and password of a URL (`https://user:pass@host`), which a log line must not carry. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"]+@/gi;

/** Replaces every registered secret and secret-shaped string with [redacted]. */
export function redact(text: string): string {
  let out = scrubRegisteredSecrets(text).replace(URL_USERINFO, '$1[redacted]@');
  for (const p of SECRET_PATTERNS) {
    out = out.replace(p, (_m, keep: unknown) => (typeof keep === 'string' && /[=\s]$/.test(keep) ? `${keep}[redacted]` : '[redacted]'));
  }
  return out;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stdout by default, a collector in tests. */
  write?: (line: string) => void;
}

function errorFields(value: unknown): unknown {
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code !== undefined ? { code } : {}) };
  }
  return value;
}

export function createLogger(component: string, options: LoggerOptions = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? 'info');
  const write = options.write ?? ((line: string) => void process.stdout.write(line + '\n'));
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (LOG_LEVELS.indexOf(level) < threshold) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level, component, msg };
    if (fields) for (const [k, v] of Object.entries(fields)) record[k] = errorFields(v);
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch {
      line = JSON.stringify({ time: record.time, level, component, msg });
    }
    write(redact(line));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (sub) => createLogger(`${component}.${sub}`, options),
  };
}

/** A logger that drops everything, for tests and library defaults. */
export const silentLogger: Logger = createLogger('silent', { write: () => {} });
