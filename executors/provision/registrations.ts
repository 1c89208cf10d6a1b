/**
 * Feeds first boot from the registry: reads the host directory (verified, pinned
 * registrations only) every `pollMs` and hands each hostname not yet seen by this process to
 * the first-boot trigger, whose Redis marker makes the run happen once per host across
 * restarts and bot processes. Unchanged hosts cost nothing but the (cached) registry read.
 */
import { CommodoreError, errorMessage } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import { MetricsRegistry, type Counter } from "../../lib/metrics.ts";
import type { FirstBootResult, Registration } from "./first-boot.ts";
import type { HostDirectory } from "./hosts.ts";

/** Dependencies of {@link RegistrationWatcher}. */
export interface RegistrationWatcherDeps {
  readonly directory: HostDirectory;
  readonly firstBoot: (registration: Registration) => Promise<FirstBootResult>;
  readonly pollMs: number;
  readonly logger: Logger;
  readonly metrics?: MetricsRegistry;
}

/** Polls the registry for new hosts and triggers first boot for each. */
export class RegistrationWatcher {
  private readonly seen = new Set<string>();
  private readonly log: Logger;
  private readonly counter: Counter;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(private readonly deps: RegistrationWatcherDeps) {
    this.log = deps.logger.child({ component: "provision-registrations" });
    this.counter = (deps.metrics ?? new MetricsRegistry()).counter(
      "commodore_provision_first_boot_total",
      "New registrations seen by first boot, by result",
    );
  }

  /** Polls now and then every `pollMs`. */
  start(): void {
    if (this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.deps.pollMs);
    this.timer.unref();
  }

  /** Stops polling and waits for a poll in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.polling;
  }

  /** One pass over the registry; concurrent calls share the pass in progress. */
  async poll(): Promise<void> {
    this.polling ??= this.pass().finally(() => (this.polling = undefined));
    return await this.polling;
  }

  private async pass(): Promise<void> {
    let hosts: readonly Registration[];
    try {
      hosts = await this.deps.directory.list();
    } catch (err) {
      this.log.warn("registry read failed; first boot retries next poll", {
        error: errorMessage(err),
      });
      return;
    }
    const current = new Set(hosts.map((h) => h.hostname));
    for (const name of this.seen) if (!current.has(name)) this.seen.delete(name);
    for (const host of hosts) {
      if (this.seen.has(host.hostname)) continue;
      try {
        const result = await this.deps.firstBoot({ hostname: host.hostname, facts: host.facts });
        this.seen.add(host.hostname);
        this.counter.inc({ result: result.status });
        if (result.status === "queued")
          this.log.info("first boot queued", { host: host.hostname, jobId: result.jobId });
      } catch (err) {
        // Refusals (bad hostname, unknown playbook) are final; anything else is retried.
        if (err instanceof CommodoreError) this.seen.add(host.hostname);
        this.counter.inc({ result: err instanceof CommodoreError ? "refused" : "error" });
        this.log.warn("first boot failed", { host: host.hostname, error: errorMessage(err) });
      }
    }
  }
}
