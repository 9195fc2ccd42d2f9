// Typed errors shared by every process: each carries a code, a sentence for a person, and the fix.

/** Base of every error Tether raises on purpose; `code` is snake_case and stable. */
export class TetherError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly fix?: string,
  ) {
    super(fix ? `${message}: ${fix}` : message);
    this.name = new.target.name;
  }
}

/** A configuration variable has a bad value; the message names the variable. */
export class ConfigError extends TetherError {
  constructor(
    readonly variable: string,
    problem: string,
    fix?: string,
  ) {
    super('bad_config', `${variable} ${problem}`, fix);
  }
}

/** An HTTP-level failure with the status and the contract's error body. */
export class HttpError extends TetherError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(code, message);
  }

  toBody(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Durable state is unusable (newer schema, unwritable directory, full disk). */
export class StateError extends TetherError {}

/** Turns anything thrown into a one-line message, never a stack. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
