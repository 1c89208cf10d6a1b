/**
 * The process's metrics in the Prometheus text exposition format: Commodore's own counters,
 * histograms and gauges (keyed by label values, created where they are counted), plus, once
 * {@link MetricsRegistry.withRuntimeMetrics} is called, prom-client's process and Node.js
 * runtime metrics (CPU, resident memory, open file descriptors, heap, event-loop lag, GC).
 *
 * Label values are escaped on output, so hostile input used as a label (a rejection reason, a
 * command name) cannot break the format.
 */
import type { Registry } from "prom-client";

type Labels = Record<string, string>;

/** Default latency buckets in seconds. */
export const DEFAULT_BUCKETS_SECONDS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

interface Metric {
  readonly name: string;
  render(): string[];
}

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function formatLabels(labels: Labels, extra: Labels = {}): string {
  const all = { ...labels, ...extra };
  const parts = Object.entries(all).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** A monotonically increasing counter. */
export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  /** Adds `by` (default 1) to the series with these labels. */
  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    const cur = this.values.get(key);
    if (cur) cur.value += by;
    else this.values.set(key, { labels, value: by });
  }

  /** Current value of one series (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels))?.value ?? 0;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values())
      lines.push(`${this.name}${formatLabels(labels)} ${value}`);
    return lines;
  }
}

/** A gauge whose value is read from a callback at scrape time. */
export class Gauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
  ) {}

  render(): string[] {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} gauge`,
      `${this.name} ${this.read()}`,
    ];
  }
}

/** A cumulative histogram (values in seconds by convention). */
export class Histogram implements Metric {
  private readonly series = new Map<
    string,
    { labels: Labels; counts: number[]; sum: number; count: number }
  >();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[] = DEFAULT_BUCKETS_SECONDS,
  ) {}

  /** Records one observation. */
  observe(value: number, labels: Labels = {}): void {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    this.buckets.forEach((b, i) => {
      if (value <= b) s.counts[i] = (s.counts[i] ?? 0) + 1;
    });
    s.sum += value;
    s.count += 1;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => {
        lines.push(
          `${this.name}_bucket${formatLabels(s.labels, { le: String(b) })} ${s.counts[i] ?? 0}`,
        );
      });
      lines.push(`${this.name}_bucket${formatLabels(s.labels, { le: "+Inf" })} ${s.count}`);
      lines.push(`${this.name}_sum${formatLabels(s.labels)} ${s.sum}`);
      lines.push(`${this.name}_count${formatLabels(s.labels)} ${s.count}`);
    }
    return lines;
  }
}

/** Holds every metric of one process; metrics are created once and looked up by name. */
export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();
  private runtime: Registry | undefined;

  /**
   * Adds prom-client's default process and Node.js runtime metrics to {@link scrape}. Call it
   * once per process (the bot, an agent); tests and embedded registries leave it off.
   */
  async withRuntimeMetrics(): Promise<this> {
    if (this.runtime === undefined) {
      // Loaded here, not at the top: short-lived CLI commands never pay for it. The default
      // export (module.exports of this CommonJS package) is the same object from the sources
      // and from the bundle, which does not re-export a CommonJS chunk's names.
      const { default: prom } = await import("prom-client");
      this.runtime = new prom.Registry();
      prom.collectDefaultMetrics({ register: this.runtime });
    }
    return this;
  }

  /** What a `/metrics` scrape answers: {@link render} plus the runtime metrics, if enabled. */
  async scrape(): Promise<string> {
    const own = this.render();
    return this.runtime === undefined ? own : own + (await this.runtime.metrics());
  }

  /** Returns the counter with this name, creating it on first use. */
  counter(name: string, help: string): Counter {
    return this.getOrCreate(name, () => new Counter(name, help), Counter);
  }

  /** Returns the histogram with this name, creating it on first use. */
  histogram(name: string, help: string, buckets?: readonly number[]): Histogram {
    return this.getOrCreate(name, () => new Histogram(name, help, buckets), Histogram);
  }

  /** Registers a gauge read at scrape time. */
  gauge(name: string, help: string, read: () => number): Gauge {
    return this.getOrCreate(name, () => new Gauge(name, help, read), Gauge);
  }

  /** Commodore's own metrics in Prometheus text format. */
  render(): string {
    return [...this.metrics.values()].flatMap((m) => m.render()).join("\n") + "\n";
  }

  private getOrCreate<T extends Metric>(
    name: string,
    make: () => T,
    kind: abstract new (...a: never[]) => T,
  ): T {
    const existing = this.metrics.get(name);
    if (existing) {
      if (!(existing instanceof kind))
        throw new Error(`metric ${name} already registered with another type`);
      return existing;
    }
    const m = make();
    this.metrics.set(name, m);
    return m;
  }
}
