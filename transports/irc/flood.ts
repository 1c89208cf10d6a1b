/**
 * Outgoing flood control: a token bucket in front of a per-connection send queue.
 *
 * The bucket allows `burst` lines at once, then `perSecond` lines per second. Lines wait in
 * the queue (never dropped while it has room) and the queue pauses while the connection is
 * down, so output survives a reconnect. Refusals to people the bot does not know wait in a
 * lane of their own: sent only when no other line waits, and dropped (reported) beyond a
 * few, so a flood of strangers can neither delay nor push out anyone's results or
 * confirmation codes. Clock and timers are injectable for unit tests.
 */

/** Schedules `fn` after `ms`; returns a function that cancels it. */
export type Scheduler = (fn: () => void, ms: number) => () => void;

/** Real timers. */
export const realScheduler: Scheduler = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
};

const MS_PER_SECOND = 1_000;

/** Classic token bucket. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token: returns 0 when taken, otherwise the milliseconds until one is available. */
  tryTake(): number {
    const now = this.now();
    const elapsed = Math.max(0, now - this.last);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perSecond) / MS_PER_SECOND);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) * MS_PER_SECOND) / this.perSecond);
  }
}

/** Stranger lines held before new ones are dropped. */
export const DEFAULT_MAX_STRANGER_LINES = 4;

/** One message waiting to go out. */
export interface OutgoingLine {
  /** Channel or nick. */
  readonly target: string;
  /** Already sanitized and split message body. */
  readonly text: string;
  /** Sent as NOTICE (announcements nobody should answer) instead of PRIVMSG. */
  readonly notice?: boolean;
  /** A refusal to an unknown user: lowest priority, bounded separately. */
  readonly stranger?: boolean;
}

/** Options for {@link SendQueue}. */
export interface SendQueueOptions {
  readonly bucket: TokenBucket;
  /** Writes one line to the connection. */
  readonly send: (line: OutgoingLine) => void;
  /** Lines held before the oldest is dropped. */
  readonly maxQueue: number;
  /** Called with each line dropped because the queue was full. */
  readonly onDrop?: (line: OutgoingLine) => void;
  /** Stranger lines held at most (default {@link DEFAULT_MAX_STRANGER_LINES}); newer ones are dropped. */
  readonly maxStrangerLines?: number;
  /** Called with each stranger line dropped because its lane was full. */
  readonly onStrangerDrop?: (line: OutgoingLine) => void;
  readonly schedule?: Scheduler;
}

/**
 * FIFO of outgoing lines drained through a token bucket, with a separate lower-priority FIFO
 * for stranger lines; starts paused.
 */
export class SendQueue {
  private readonly lines: OutgoingLine[] = [];
  private readonly strangerLines: OutgoingLine[] = [];
  private paused = true;
  private cancelTimer: (() => void) | undefined;
  private readonly schedule: Scheduler;

  constructor(private readonly options: SendQueueOptions) {
    this.schedule = options.schedule ?? realScheduler;
  }

  /** Lines waiting, stranger lines included. */
  get length(): number {
    return this.lines.length + this.strangerLines.length;
  }

  /**
   * Queues a line and sends it as soon as the bucket allows; a stranger line only when no
   * other line waits, and not at all when its lane is full.
   */
  push(line: OutgoingLine): void {
    if (line.stranger === true) {
      if (
        this.strangerLines.length >= (this.options.maxStrangerLines ?? DEFAULT_MAX_STRANGER_LINES)
      ) {
        this.options.onStrangerDrop?.(line);
        return;
      }
      this.strangerLines.push(line);
      this.drain();
      return;
    }
    if (this.lines.length >= this.options.maxQueue) {
      const dropped = this.lines.shift();
      if (dropped) this.options.onDrop?.(dropped);
    }
    this.lines.push(line);
    this.drain();
  }

  /** Starts (or restarts) sending, e.g. once the connection is registered. */
  resume(): void {
    this.paused = false;
    this.drain();
  }

  /** Stops sending and keeps the queue, e.g. when the connection drops. */
  pause(): void {
    this.paused = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private drain(): void {
    if (this.paused || this.cancelTimer !== undefined) return;
    while (this.length > 0) {
      const wait = this.options.bucket.tryTake();
      if (wait > 0) {
        this.cancelTimer = this.schedule(() => {
          this.cancelTimer = undefined;
          this.drain();
        }, wait);
        return;
      }
      const line = this.lines.shift() ?? this.strangerLines.shift();
      if (line) this.options.send(line);
    }
  }
}
