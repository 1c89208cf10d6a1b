/**
 * Metrics of the provisioning queue.
 */
import { MetricsRegistry, type Counter, type Histogram } from "../../../lib/metrics.ts";

/** Instruments the queue updates. */
export interface QueueMetrics {
  readonly enqueued: Counter;
  readonly finished: Counter;
  readonly recovered: Counter;
  readonly duration: Histogram;
}

const RUN_BUCKETS_SECONDS = [1, 5, 15, 30, 60, 120, 300, 600, 1800];

/** Registers (or reuses) the queue metrics; a private registry when none is given. */
export function createQueueMetrics(
  registry: MetricsRegistry | undefined,
  runningNow: () => number,
): QueueMetrics {
  const r = registry ?? new MetricsRegistry();
  r.gauge("commodore_provision_running", "Playbook runs in progress in this process", runningNow);
  return {
    enqueued: r.counter(
      "commodore_provision_enqueued_total",
      "Provisioning jobs queued, by trigger",
    ),
    finished: r.counter(
      "commodore_provision_finished_total",
      "Provisioning attempts finished, by status",
    ),
    recovered: r.counter(
      "commodore_provision_recovered_total",
      "Jobs taken back from dead workers",
    ),
    duration: r.histogram(
      "commodore_provision_run_seconds",
      "Duration of playbook runs",
      RUN_BUCKETS_SECONDS,
    ),
  };
}
