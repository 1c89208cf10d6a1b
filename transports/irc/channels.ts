/**
 * Keeps the bot in its configured channels: joins (with keys) after every registration,
 * rejoins after a kick when configured (with capped, jittered backoff so a kick-ban does not
 * turn into a join flood), and periodically retries channels it is not in (a failed join
 * during a netsplit, a channel that was +i for a while).
 */
import { backoffDelay, type BackoffBounds } from "../../lib/backoff.ts";
import type { Logger } from "../../lib/log.ts";
import { ircLower } from "./mask.ts";
import type { Scheduler } from "./flood.ts";

/** A configured channel. */
export interface ChannelSpec {
  readonly name: string;
  readonly key?: string | undefined;
}

/** Options for {@link ChannelKeeper}. */
export interface ChannelKeeperOptions {
  readonly channels: readonly ChannelSpec[];
  readonly rejoinOnKick: boolean;
  readonly backoff: BackoffBounds;
  readonly join: (name: string, key: string | undefined) => void;
  readonly schedule: Scheduler;
  readonly logger: Logger;
}

/** Tracks which configured channels the bot is in and gets it back into them. */
export class ChannelKeeper {
  private readonly wanted = new Map<string, ChannelSpec>();
  private readonly joined = new Set<string>();
  private readonly abandoned = new Set<string>();
  private readonly kicks = new Map<string, number>();
  private readonly pending = new Map<string, () => void>();

  constructor(private readonly options: ChannelKeeperOptions) {
    for (const c of options.channels) this.wanted.set(ircLower(c.name), c);
  }

  /** True when the bot is in `channel`. */
  isJoined(channel: string): boolean {
    return this.joined.has(ircLower(channel));
  }

  /** Fresh connection: forget state and join everything. */
  registered(): void {
    this.reset();
    this.abandoned.clear();
    for (const c of this.wanted.values()) this.options.join(c.name, c.key);
  }

  /** Connection lost: nothing is joined any more. */
  reset(): void {
    this.joined.clear();
    for (const cancel of this.pending.values()) cancel();
    this.pending.clear();
  }

  /** The bot joined `channel`. */
  selfJoined(channel: string): void {
    this.joined.add(ircLower(channel));
    this.kicks.delete(ircLower(channel));
  }

  /** The bot left `channel` of its own accord. */
  selfParted(channel: string): void {
    this.joined.delete(ircLower(channel));
  }

  /** The bot was kicked from `channel`. */
  selfKicked(channel: string, by: string, reason: string): void {
    const id = ircLower(channel);
    this.joined.delete(id);
    const spec = this.wanted.get(id);
    if (!spec) return;
    if (!this.options.rejoinOnKick) {
      this.abandoned.add(id);
      this.options.logger.warn("kicked; not rejoining (rejoinOnKick is off)", {
        channel,
        by,
        reason,
      });
      return;
    }
    const attempt = (this.kicks.get(id) ?? 0) + 1;
    this.kicks.set(id, attempt);
    const delay = backoffDelay(attempt, this.options.backoff);
    this.options.logger.warn("kicked; rejoining", { channel, by, reason, delayMs: delay });
    this.pending.get(id)?.();
    this.pending.set(
      id,
      this.options.schedule(() => {
        this.pending.delete(id);
        this.options.join(spec.name, spec.key);
      }, delay),
    );
  }

  /** Retries every configured channel the bot should be in but is not. */
  check(): void {
    for (const [id, spec] of this.wanted) {
      if (this.joined.has(id) || this.abandoned.has(id) || this.pending.has(id)) continue;
      this.options.logger.info("not in configured channel; joining", { channel: spec.name });
      this.options.join(spec.name, spec.key);
    }
  }
}
