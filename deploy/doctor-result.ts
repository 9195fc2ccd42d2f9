// One line of `tether doctor`: which check, ok / warn / fail, what was seen, and the fix for anything not ok.

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  /** Stable id scripts and tests match on: `node`, `env:runtime`, `telegram:webhook`, … */
  check: string;
  status: CheckStatus;
  /** What was seen, for a person; never a secret. */
  message: string;
  fix?: string;
}

export const ok = (check: string, message: string): CheckResult => ({ check, status: 'ok', message });
export const warn = (check: string, message: string, fix?: string): CheckResult => ({ check, status: 'warn', message, ...(fix ? { fix } : {}) });
export const fail = (check: string, message: string, fix: string): CheckResult => ({ check, status: 'fail', message, fix });
