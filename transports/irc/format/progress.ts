/**
 * Turns a stream of fleet progress events into a few accurate live lines.
 *
 * The original bot announced a fixed "waiting 2 seconds for acks". Here every line states
 * real counts: phase transitions (request published, all acknowledged) are reported at once,
 * and in between the caller's timer asks {@link ProgressTracker.tick} for at most one update
 * per interval, and only when a count changed.
 */
import type { FleetProgress } from "../../../executors/fleet/index.ts";

function hosts(n: number): string {
  return `${n} host${n === 1 ? "" : "s"}`;
}

/** Live-progress state for one fleet job. */
export class ProgressTracker {
  private expected = 0;
  private acked = 0;
  private noop = 0;
  private done = 0;
  private dirty = false;
  private allAckedReported = false;

  /** Records an event; returns lines that should be shown right away. */
  update(progress: FleetProgress): string[] {
    switch (progress.kind) {
      case "published":
        this.expected = progress.expected.length;
        return [
          this.expected === 0
            ? "no registered host matches; listening for replies anyway"
            : `waiting for acknowledgements from ${hosts(this.expected)}`,
        ];
      case "ack":
        this.acked = progress.acked;
        this.expected = progress.expected;
        if (this.acked >= this.expected && !this.allAckedReported) {
          this.allAckedReported = true;
          this.dirty = false;
          return [`got ${this.acked}/${this.expected} acknowledgements`];
        }
        this.dirty = true;
        return [];
      case "noop":
        this.noop += 1;
        return [];
      case "host":
        this.done = progress.done;
        this.expected = progress.expected;
        this.dirty = this.done < this.expected;
        return [];
    }
  }

  /** A status line when counts changed since the last line, otherwise undefined. */
  tick(): string | undefined {
    if (!this.dirty) return undefined;
    this.dirty = false;
    const skipped = this.noop > 0 ? ` (${this.noop} did not match)` : "";
    if (this.done === 0 && this.acked < this.expected) {
      const missing = this.expected - this.acked;
      return `got ${this.acked}/${this.expected} acknowledgements, waiting for ${missing} more${skipped}`;
    }
    const missing = this.expected - this.done;
    return `got ${this.done}/${this.expected} results, waiting for ${hosts(missing)}${skipped}`;
  }
}
