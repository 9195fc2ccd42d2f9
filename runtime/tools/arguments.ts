// Reads a tool call's arguments (the parsed JSON object, or its text) field by field, naming what is wrong.

/** Thrown inside a parse only; parseArguments turns it into a problem sentence, never a crash. */
class ArgumentProblem extends Error {}

export type ParsedArguments<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Typed access to one arguments object; each getter throws ArgumentProblem with a sentence. */
export class ArgumentReader {
  constructor(private readonly fields: Record<string, unknown>) {}

  requiredString(name: string, { nonEmpty = false } = {}): string {
    const v = this.fields[name];
    if (typeof v !== 'string') throw new ArgumentProblem(v === undefined ? `${name} is missing` : `${name} must be a string`);
    if (nonEmpty && v.trim() === '') throw new ArgumentProblem(`${name} must not be empty`);
    return v;
  }

  optionalString(name: string): string | undefined {
    const v = this.fields[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new ArgumentProblem(`${name} must be a string`);
    return v;
  }

  /** Models sometimes send numbers as strings ("30"); those are accepted. */
  optionalPositiveNumber(name: string, { integer = false } = {}): number | undefined {
    const v = this.fields[name];
    if (v === undefined || v === null) return undefined;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      throw new ArgumentProblem(`${name} must be a positive ${integer ? 'whole number' : 'number'}`);
    }
    return n;
  }
}

/** Runs `read` over the arguments; a JSON string is parsed first, anything but an object is a problem. */
export function parseArguments<T>(args: unknown, read: (a: ArgumentReader) => T): ParsedArguments<T> {
  let value = args;
  if (typeof value === 'string') {
    try {
      value = value.trim() === '' ? {} : JSON.parse(value);
    } catch {
      return { ok: false, problem: 'arguments are not valid JSON' };
    }
  }
  if (value === undefined || value === null) value = {};
  if (typeof value !== 'object' || Array.isArray(value)) return { ok: false, problem: 'arguments must be a JSON object' };
  try {
    return { ok: true, value: read(new ArgumentReader(value as Record<string, unknown>)) };
  } catch (err) {
    if (err instanceof ArgumentProblem) return { ok: false, problem: err.message };
    throw err;
  }
}
