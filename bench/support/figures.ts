// Figures a benchmark reports: percentiles, goals, and the lines it prints (one of them JSON, for bench/run.ts).
export interface Goal {
  /** `below`: the figure must be under `value`; `atLeast`: at or over it. */
  kind: 'below' | 'atLeast';
  value: number;
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  goal?: Goal;
  /** What the figure is made of: samples, settings. */
  detail?: string;
}

export const RESULT_PREFIX = 'BENCH_RESULT ';

/** Nearest-rank percentile of already sorted samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export interface Spread {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function spread(samples: readonly number[]): Spread {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / Math.max(1, sorted.length);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? Number.NaN, mean };
}

export function goalMet(f: Figure): boolean | undefined {
  if (!f.goal) return undefined;
  return f.goal.kind === 'below' ? f.value < f.goal.value : f.value >= f.goal.value;
}

export function describeGoal(g: Goal | undefined, unit: string): string {
  if (!g) return '—';
  return `${g.kind === 'below' ? '<' : '≥'} ${g.value}${unit ? ` ${unit}` : ''}`;
}

export function formatValue(value: number): string {
  if (!Number.isFinite(value) || Number.isInteger(value)) return String(value);
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatFigure(f: Figure): string {
  const met = goalMet(f);
  const verdict = met === undefined ? '' : met ? '  met' : '  NOT met';
  return `  ${f.name}: ${formatValue(f.value)}${f.unit ? ` ${f.unit}` : ''} (goal ${describeGoal(f.goal, f.unit)})${verdict}${f.detail ? `  [${f.detail}]` : ''}`;
}

/** Prints the figures for a person, then one machine-readable line. */
export function reportFigures(script: string, figures: Figure[]): void {
  process.stdout.write(`${script}:\n${figures.map(formatFigure).join('\n')}\n`);
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify({ script, figures })}\n`);
}

/** Runs a benchmark's main, reporting a failure as one line and a non-zero exit. */
export function runBenchmark(script: string, body: () => Promise<Figure[]>): void {
  body().then(
    (figures) => {
      reportFigures(script, figures);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`${script} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
