/**
 * How often the bot tells an unknown user that it does not know them: at most once per
 * {@link STRANGER_REFUSAL_INTERVAL_MS} per nick and per `user@host` (so changing nick does not
 * earn another), remembering at most {@link MAX_TRACKED_STRANGERS} keys. When that many are
 * fresh (a flood from many hosts), newcomers get no refusal until some expire.
 */
import { ircLower } from "./mask.ts";

/** One refusal per nick or `user@host` in this time. */
export const STRANGER_REFUSAL_INTERVAL_MS = 60_000;
/** Keys (nicks and `user@host`s) remembered at most. */
export const MAX_TRACKED_STRANGERS = 1_000;

/** `refuse`: answer now; `repeat`: answered within the interval; `full`: too many to track. */
export type StrangerVerdict = "refuse" | "repeat" | "full";

/** Decides whether an unknown user gets a refusal. */
export class StrangerGate {
  /** key → time (ms) until which it gets no new refusal; insertion order is expiry order. */
  private readonly until = new Map<string, number>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly intervalMs: number = STRANGER_REFUSAL_INTERVAL_MS,
    private readonly maxTracked: number = MAX_TRACKED_STRANGERS,
  ) {}

  /** Whether `nick!ident@host` gets a refusal now; a `refuse` starts its quiet interval. */
  check(nick: string, ident: string, host: string): StrangerVerdict {
    const now = this.now();
    const keys = [`nick:${ircLower(nick)}`, `mask:${ircLower(ident)}@${host.toLowerCase()}`];
    if (keys.some((k) => (this.until.get(k) ?? 0) > now)) return "repeat";
    this.prune(now);
    if (this.until.size + keys.length > this.maxTracked) return "full";
    for (const k of keys) {
      this.until.delete(k);
      this.until.set(k, now + this.intervalMs);
    }
    return "refuse";
  }

  private prune(now: number): void {
    for (const [key, until] of this.until) {
      if (until > now) return;
      this.until.delete(key);
    }
  }
}
