/** A manual clock and scheduler for deterministic timer tests. */
import type { Scheduler } from "../../transports/irc/flood.ts";

/** Time only moves when the test calls {@link FakeClock.advance}. */
export class FakeClock {
  private time = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 0;

  readonly now = (): number => this.time;

  readonly schedule: Scheduler = (fn, ms) => {
    const id = this.nextId++;
    this.timers.push({ at: this.time + ms, fn, id });
    return () => {
      this.timers = this.timers.filter((t) => t.id !== id);
    };
  };

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers
        .filter((t) => t.at <= end)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t.id !== due.id);
      this.time = due.at;
      due.fn();
    }
    this.time = end;
  }
}
