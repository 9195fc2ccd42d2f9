// The benchmark driver: runs each figure's script in its own process, in sequence, then prints one summary table.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { describeGoal, formatValue, goalMet, RESULT_PREFIX, type Figure } from './support/figures.js';
import { assertCompiled, REPO_ROOT } from './support/processes.js';

/** One row per script; each also runs alone: node --import tsx bench/<script>.ts */
const SCRIPTS = ['disk-sync', 'api-overhead', 'turn-throughput', 'turn-latency', 'startup-memory', 'large-history', 'telegram-relay', 'feishu-relay'] as const;

interface ScriptResult {
  script: string;
  figures: Figure[];
  ok: boolean;
  seconds: number;
}

function runScript(script: string): Promise<ScriptResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `bench/${script}.ts`], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let buffered = '';
    let figures: Figure[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.startsWith(RESULT_PREFIX)) figures = (JSON.parse(line.slice(RESULT_PREFIX.length)) as { figures: Figure[] }).figures;
        else process.stdout.write(line + '\n');
      }
    });
    child.on('exit', (code) => resolve({ script, figures, ok: code === 0, seconds: (performance.now() - started) / 1000 }));
  });
}

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  // The load average says whether something else shared the cores while the figures were taken.
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  return `${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, ${process.platform}, load average ${load}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => Array.from(r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell + ' '.repeat(widths[c]! - Array.from(cell).length)).join('  ').trimEnd()).join('\n');
}

async function main(): Promise<number> {
  assertCompiled();
  const args = process.argv.slice(2);
  const jsonAt = args.indexOf('--json');
  const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
  if (jsonAt >= 0 && !jsonFile) throw new Error('--json needs a file name');
  const only = jsonAt >= 0 ? args.filter((_, i) => i !== jsonAt && i !== jsonAt + 1) : args;
  const unknown = only.filter((a) => !(SCRIPTS as readonly string[]).includes(a));
  if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(', ')}; choose from ${SCRIPTS.join(', ')}`);
  const chosen = only.length > 0 ? SCRIPTS.filter((s) => only.includes(s)) : [...SCRIPTS];
  process.stdout.write(`Tether benchmarks on ${machine()}\n\n`);
  const results: ScriptResult[] = [];
  for (const script of chosen) {
    process.stdout.write(`— ${script}\n`);
    results.push(await runScript(script));
  }
  const rows = [['figure', 'value', 'goal', 'met']];
  for (const r of results) {
    if (!r.ok) rows.push([`${r.script} FAILED (see above)`, '', '', '']);
    for (const f of r.figures) {
      const met = goalMet(f);
      rows.push([f.name, `${formatValue(f.value)}${f.unit ? ` ${f.unit}` : ''}`, describeGoal(f.goal, f.unit), met === undefined ? '' : met ? 'yes' : 'NO']);
    }
  }
  process.stdout.write(`\nSummary (${results.reduce((s, r) => s + r.seconds, 0).toFixed(0)} s):\n${table(rows)}\n`);
  // The whole run as JSON, for keeping or comparing: `npm run bench -- --json results.json`.
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ at: new Date().toISOString(), machine: machine(), results }, null, 2) + '\n');
  return results.every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
