// Prometheus text for GET /metrics: counters kept in memory, gauges read from the store when scraped.

/** Upper bounds (seconds) of the model latency histogram: local models are slow, hosted ones vary. */
const LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export class Histogram {
  readonly counts = LATENCY_BUCKETS.map(() => 0);
  count = 0;
  sum = 0;

  observe(seconds: number): void {
    this.count++;
    this.sum += seconds;
    LATENCY_BUCKETS.forEach((b, i) => {
      if (seconds <= b) this.counts[i]!++;
    });
  }
}

export interface MetricsSnapshot {
  turnsByStatus: Record<string, number>;
  queueDepth: number;
  runningTurns: number;
  sseClients: number;
  /** Bytes written to event stream clients that their sockets have not taken yet. */
  sseBufferedBytes: number;
  lastSeq: number;
  uptimeSeconds: number;
  modelLatency: Histogram;
  modelErrors: number;
  toolRuns: number;
  storageWriteFailures: number;
  /** 1 while turns wait for the store to take writes again. */
  storageBlocked: boolean;
}

export function renderMetrics(s: MetricsSnapshot, statuses: readonly string[]): string {
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, rows: string[]) => lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...rows);
  metric('tether_turns', 'gauge', 'Turns in the store by status.', statuses.map((st) => `tether_turns{status="${st}"} ${s.turnsByStatus[st] ?? 0}`));
  metric('tether_queue_depth', 'gauge', 'Turns waiting for a worker.', [`tether_queue_depth ${s.queueDepth}`]);
  metric('tether_running_turns', 'gauge', 'Turns running now.', [`tether_running_turns ${s.runningTurns}`]);
  metric('tether_sse_clients', 'gauge', 'Connected event stream clients.', [`tether_sse_clients ${s.sseClients}`]);
  metric('tether_sse_buffered_bytes', 'gauge', 'Event stream bytes waiting in the runtime for slow clients.', [`tether_sse_buffered_bytes ${s.sseBufferedBytes}`]);
  metric('tether_event_seq', 'gauge', 'Newest event sequence number.', [`tether_event_seq ${s.lastSeq}`]);
  metric('tether_uptime_seconds', 'gauge', 'Seconds since the runtime started.', [`tether_uptime_seconds ${s.uptimeSeconds.toFixed(0)}`]);
  metric('tether_model_errors_total', 'counter', 'Model calls that failed.', [`tether_model_errors_total ${s.modelErrors}`]);
  metric('tether_tool_runs_total', 'counter', 'Tool calls run.', [`tether_tool_runs_total ${s.toolRuns}`]);
  metric('tether_storage_write_failures_total', 'counter', 'Turn starts and ends the store refused to record (disk full, read-only); each is retried.', [`tether_storage_write_failures_total ${s.storageWriteFailures}`]);
  metric('tether_storage_blocked', 'gauge', '1 while turns wait for the store to take writes again.', [`tether_storage_blocked ${s.storageBlocked ? 1 : 0}`]);
  metric('tether_model_latency_seconds', 'histogram', 'Duration of one streamed model call.', [
    ...LATENCY_BUCKETS.map((b, i) => `tether_model_latency_seconds_bucket{le="${b}"} ${s.modelLatency.counts[i]}`),
    `tether_model_latency_seconds_bucket{le="+Inf"} ${s.modelLatency.count}`,
    `tether_model_latency_seconds_sum ${s.modelLatency.sum.toFixed(3)}`,
    `tether_model_latency_seconds_count ${s.modelLatency.count}`,
  ]);
  return lines.join('\n') + '\n';
}

/** Counters the turn engine bumps. */
export class RuntimeCounters {
  readonly modelLatency = new Histogram();
  modelErrors = 0;
  toolRuns = 0;
  /** Starts and ends of turns the store refused to record (each is retried). */
  storageWriteFailures = 0;
  readonly startedAt = Date.now();
}
