/**
 * Where decoded replies wait for their signature check. `complete` and `noop` replies go first;
 * `start` replies wait in a lower-priority queue, and at least `startHoldMs` after arrival,
 * because a verified `complete` from the same host proves the acknowledgement on its own: a
 * start whose host is already final when its turn comes is skipped without being verified (a
 * fast provider's start then costs no verification at all). Nothing reaches the sink
 * unverified, so progress (acks included) only ever comes from verified messages.
 *
 * With `concurrency` > 0 the checks run on that many verification threads (verify-pool.ts, in
 * batches), and only {@link IN_FLIGHT_PER_THREAD} per thread leave this queue at a time, so the
 * priorities above still decide what is checked first; with 0 they run in-thread. Either way
 * the queue is drained after the current I/O batch, so a burst of replies read together is
 * reordered (completes first) before any of it is verified.
 */
import type { PayloadVerifier } from "../protocol/auth.ts";
import type { ReplyMessage } from "../protocol/messages.ts";
import type { Rejection } from "../protocol/rejections.ts";
import { IN_FLIGHT_PER_THREAD, reserveVerifyThreads } from "../protocol/verify-pool.ts";

/** Largest backlog of unverified replies; beyond it new replies are refused. */
export const MAX_BACKLOG = 200_000;

/** A decoded, not yet verified reply and where its verdict goes. */
export interface PendingReply {
  readonly reply: ReplyMessage;
  readonly payload: string;
  readonly sig: string;
  /** Why the reply no longer matters (request closed, host already final), if it does not. */
  stale(): Rejection | undefined;
  /** Receives the verified reply. */
  accept(reply: ReplyMessage): void;
  /** Receives the reason the reply was refused. */
  refuse(rejection: Rejection): void;
}

/** Settings of a {@link ReplyIntake}. */
export interface ReplyIntakeOptions {
  readonly verifier: PayloadVerifier;
  /** Verification threads (process-wide, see verify-pool.ts); 0 verifies in-thread. */
  readonly concurrency: number;
  readonly now: () => number;
  /** Called for each start skipped unverified because it no longer mattered. */
  readonly onSkipped: (pending: PendingReply) => void;
  /** How long a start waits for its host's complete before it is verified itself. */
  readonly startHoldMs: number;
  /** Monotonic milliseconds. */
  readonly clock: () => number;
}

interface HeldStart {
  readonly pending: PendingReply;
  /** When the start may be verified (monotonic ms). */
  readonly due: number;
}

/** A FIFO with O(1) push and shift. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
    return item;
  }
}

/** The controller's verification queue. */
export class ReplyIntake {
  private readonly urgent = new Fifo<PendingReply>();
  private readonly starts = new Fifo<HeldStart>();
  private inFlight = 0;
  private scheduled = false;
  private holdTimer: NodeJS.Timeout | undefined;
  /** Checks handed to the verification threads at once. */
  private readonly maxInFlight: number;

  constructor(private readonly opts: ReplyIntakeOptions) {
    if (opts.concurrency > 0) reserveVerifyThreads(opts.concurrency);
    this.maxInFlight = opts.concurrency * IN_FLIGHT_PER_THREAD;
  }

  /** Queues one reply for verification. */
  submit(pending: PendingReply): void {
    if (this.urgent.size + this.starts.size >= MAX_BACKLOG) {
      pending.refuse({
        reason: "backlog_full",
        detail: `${MAX_BACKLOG} replies are already waiting for verification`,
      });
      return;
    }
    if (pending.reply.status === "start")
      this.starts.push({ pending, due: this.opts.clock() + this.opts.startHoldMs });
    else this.urgent.push(pending);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.pump();
      });
    }
  }

  /** The next reply worth verifying; stale ones are dropped on the way, unverified. */
  private next(): PendingReply | undefined {
    for (let p = this.urgent.shift(); p; p = this.urgent.shift()) {
      const stale = p.stale();
      if (!stale) return p;
      p.refuse(stale);
    }
    for (let head = this.starts.peek(); head; head = this.starts.peek()) {
      if (head.pending.stale()) {
        this.starts.shift();
        this.opts.onSkipped(head.pending);
        continue;
      }
      const wait = head.due - this.opts.clock();
      if (wait <= 0) return this.starts.shift()?.pending;
      this.wakeIn(wait);
      return undefined;
    }
    return undefined;
  }

  private wakeIn(ms: number): void {
    if (this.holdTimer !== undefined) return;
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined;
      this.pump();
    }, Math.ceil(ms));
    this.holdTimer.unref();
  }

  private verifySync(p: PendingReply): Rejection | undefined {
    try {
      return this.opts.verifier.verify(p.payload, p.sig, p.reply.hostname, this.opts.now());
    } catch (err) {
      return { reason: "bad_signature", detail: `verifier failed: ${(err as Error).message}` };
    }
  }

  private pump(): void {
    const { verifier, now } = this.opts;
    if (this.maxInFlight === 0 || verifier.verifyAsync === undefined) {
      for (let p = this.next(); p; p = this.next()) this.settle(p, this.verifySync(p));
      return;
    }
    while (this.inFlight < this.maxInFlight) {
      const p = this.next();
      if (!p) return;
      this.inFlight++;
      verifier
        .verifyAsync(p.payload, p.sig, p.reply.hostname, now())
        .then(
          (verdict) => verdict,
          (err: unknown): Rejection => ({
            reason: "bad_signature",
            detail: `verifier failed: ${(err as Error).message}`,
          }),
        )
        .then((verdict) => {
          this.inFlight--;
          this.settle(p, verdict);
          this.pump();
        });
    }
  }

  private settle(p: PendingReply, verdict: Rejection | undefined): void {
    if (verdict) return p.refuse(verdict);
    const stale = p.stale();
    if (stale === undefined) return p.accept(p.reply);
    if (p.reply.status === "start") return this.opts.onSkipped(p);
    p.refuse(stale);
  }
}
