// Baseline figure: how long this disk takes to make a small write durable (fdatasync), the floor under every commit with synchronous=FULL.
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { spread, runBenchmark, type Figure } from './support/figures.js';
import { freshDir } from './support/processes.js';

const SAMPLES = 1000;

runBenchmark('disk-sync', async () => {
  const dir = freshDir('disk');
  const fd = openSync(join(dir, 'probe'), 'w');
  try {
    const page = Buffer.alloc(4096, 1);
    const samples: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const t0 = performance.now();
      writeSync(fd, page, 0, page.length, (i % 64) * page.length);
      fdatasyncSync(fd);
      samples.push(performance.now() - t0);
    }
    const s = spread(samples);
    return [
      { name: 'disk: 4 KiB write + fdatasync, p50', value: s.p50, unit: 'ms', detail: `${s.n} syncs in ${dir}` },
      { name: 'disk: 4 KiB write + fdatasync, p99', value: s.p99, unit: 'ms', detail: `max ${s.max.toFixed(2)} ms` },
    ] satisfies Figure[];
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});
