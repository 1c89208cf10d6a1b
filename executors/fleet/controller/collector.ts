/**
 * Aggregates the replies to one request. Knows which accepted hosts should answer (predicted
 * from controller-held state: see controller/expected.ts), resolves the moment every host it is
 * waiting for is final, and turns silence into `absent` (an expected host without a fresh
 * registration), `no_ack` (no `start` within the ack timeout) or `no_result` (acked, no
 * `complete` within the execution timeout). A verified `start` or `complete` from an accepted
 * host that was not predicted is part of the answer with its own status, never dropped (the
 * prediction is only a cache for early completion; agents evaluate the filter themselves).
 * A cancelled request gives every unfinished host a grace period to report its provider
 * stopped; hosts end `cancelled` then, or at the end of the grace period.
 */
import type { ReplyMessage } from "../protocol/messages.ts";
import type { Rejection } from "../protocol/rejections.ts";
import type { FleetProgress, FleetSummary, HostResult } from "../types.ts";

/** Settings for one collection. */
export interface CollectorOptions {
  /** Hosts awaited: the request completes early once every one of them is final. */
  readonly expected: readonly string[];
  /**
   * Expected hosts without a fresh registration, with why (`no heartbeat since …`): silent,
   * they end `absent` instead of `no_ack`.
   */
  readonly absent?: ReadonlyMap<string, string>;
  readonly ackTimeoutMs: number;
  /** Time allowed after a host's ack for its `complete`. */
  readonly execTimeoutMs: number;
  readonly progress: (event: FleetProgress) => void;
  /** Monotonic milliseconds. */
  readonly clock: () => number;
}

interface HostState {
  readonly hostname: string;
  readonly expected: boolean;
  ackAt?: number;
  noop?: boolean;
  result?: HostResult;
  timer?: NodeJS.Timeout;
}

/**
 * How {@link Collector.accept} took a reply: `unpredicted` is a reply from a host that was not
 * expected, now part of the answer (a `noop` from one is simply `accepted`).
 */
export type AcceptOutcome = "accepted" | "unpredicted" | Rejection;

/** The state of one open request. */
export class Collector {
  private readonly hosts = new Map<string, HostState>();
  private readonly startedAt: number;
  private readonly ackTimer: NodeJS.Timeout;
  private ackWindowOver = false;
  private pending: number;
  private emitted = 0;
  /** Hosts with an ack so far (kept as a count: recounting per ack is quadratic). */
  private acked = 0;
  /** Hosts that answered `start` or `complete` without being expected. */
  private unpredicted = 0;
  private finishedAt: number | undefined;
  /** Who cancelled the request, once someone did. */
  private cancelledBy: string | undefined;
  private resolveDone!: () => void;
  /** The verified `complete` payloads in arrival order. */
  readonly replies: ReplyMessage[] = [];
  /** Resolves when the request is closed. */
  readonly done = new Promise<void>((resolve) => (this.resolveDone = resolve));

  constructor(private readonly opts: CollectorOptions) {
    this.startedAt = opts.clock();
    for (const h of opts.expected) this.hosts.set(h, { hostname: h, expected: true });
    this.pending = this.hosts.size;
    this.ackTimer = setTimeout(() => this.ackWindowClosed(), opts.ackTimeoutMs);
  }

  /** Takes one verified reply that arrived at `receivedAt` (clock ms; default now). */
  accept(reply: ReplyMessage, receivedAt: number = this.opts.clock()): AcceptOutcome {
    if (this.finishedAt !== undefined)
      return { reason: "not_open", detail: "request already closed" };
    let state = this.hosts.get(reply.hostname);
    let outcome: AcceptOutcome = "accepted";
    if (!state) {
      // A host the prediction left out that says the filter does not match it: nothing to wait for.
      if (reply.status === "noop") {
        this.hosts.set(reply.hostname, { hostname: reply.hostname, expected: false, noop: true });
        this.opts.progress({ kind: "noop", hostname: reply.hostname });
        return "accepted";
      }
      state = { hostname: reply.hostname, expected: false };
      this.hosts.set(reply.hostname, state);
      this.pending++;
      this.unpredicted++;
      outcome = "unpredicted";
    }
    if (state.result || state.noop) {
      return {
        reason: "duplicate",
        detail: `${reply.hostname} already ${state.noop ? "answered noop" : `finished as ${state.result?.status}`}`,
      };
    }
    const now = receivedAt - this.startedAt;
    if (reply.status === "noop") {
      if (state.ackAt !== undefined)
        return { reason: "duplicate", detail: `${reply.hostname} sent noop after start` };
      state.noop = true;
      this.pending--;
      this.opts.progress({ kind: "noop", hostname: reply.hostname });
    } else if (reply.status === "start") {
      if (state.ackAt !== undefined)
        return { reason: "duplicate", detail: `${reply.hostname} sent start twice` };
      this.ack(state, now);
    } else {
      if (state.ackAt === undefined) this.ack(state, now);
      this.replies.push(reply);
      const out = reply.output ?? { exit: 1, short: "complete without output" };
      const stopped = this.cancelledBy !== undefined && out["cancelled"] === true;
      const status = stopped ? "cancelled" : out.exit === 0 ? "ok" : "failed";
      this.finish(state, {
        hostname: state.hostname,
        status,
        exit: out.exit,
        short: out.short,
        output: out,
        ackMs: state.ackAt ?? now,
        durationMs: now,
      });
    }
    this.maybeClose();
    return outcome;
  }

  /**
   * Why a reply from `hostname` would be refused right now whatever its signature says: the
   * request is closed, or the host is already final. Lets the controller skip verifying it.
   */
  stale(hostname: string): Rejection | undefined {
    if (this.finishedAt !== undefined)
      return { reason: "not_open", detail: "request already closed" };
    const state = this.hosts.get(hostname);
    if (state?.result || state?.noop)
      return { reason: "duplicate", detail: `${hostname} already answered` };
    return undefined;
  }

  /** Closes the request now (cancellation); silent hosts get `reason`. */
  abort(reason: string): void {
    for (const s of this.hosts.values()) this.silence(s, reason, reason);
    this.maybeClose();
  }

  /**
   * Cancels the request on behalf of `by`: the ack and execution timeouts stop counting, and
   * every unfinished host has `graceMs` to report that its provider stopped (a `complete` with
   * `cancelled: true` ends it `cancelled`; a provider that finished first keeps its own
   * outcome); hosts still silent then end `cancelled`. Repeated calls do nothing.
   */
  cancel(by: string, graceMs: number): void {
    if (this.finishedAt !== undefined || this.cancelledBy !== undefined) return;
    this.cancelledBy = by;
    clearTimeout(this.ackTimer);
    this.ackWindowOver = true;
    // No grace: the request never went out, so no agent has anything to confirm.
    const why =
      graceMs === 0
        ? `cancelled by ${by} before it started`
        : `cancelled by ${by}; the agent did not confirm the stop`;
    for (const state of this.hosts.values()) {
      if (state.result || state.noop) continue;
      clearTimeout(state.timer);
      state.timer = setTimeout(() => {
        this.finishCancelled(state, why);
        this.maybeClose();
      }, graceMs);
    }
    this.maybeClose();
  }

  /** One result per host (sorted) and the counts. */
  summarize(): { hosts: HostResult[]; summary: FleetSummary } {
    const hosts = [...this.hosts.values()]
      .flatMap((s) => (s.result ? [s.result] : []))
      .sort((a, b) => a.hostname.localeCompare(b.hostname));
    const count = (st: HostResult["status"]) => hosts.filter((h) => h.status === st).length;
    const states = [...this.hosts.values()];
    const noop = states.filter((s) => s.noop).length;
    const predictedNoop = states.filter((s) => s.noop && s.expected).length;
    return {
      hosts,
      summary: {
        expected: this.opts.expected.length - predictedNoop + this.unpredicted,
        acked: states.filter((s) => s.ackAt !== undefined).length,
        noop,
        ok: count("ok"),
        failed: count("failed"),
        noAck: count("no_ack"),
        noResult: count("no_result"),
        unexpected: this.unpredicted,
        ...(count("absent") > 0 ? { absent: count("absent") } : {}),
        ...(count("cancelled") > 0 ? { cancelled: count("cancelled") } : {}),
        durationMs: Math.round((this.finishedAt ?? this.opts.clock()) - this.startedAt),
      },
    };
  }

  private ack(state: HostState, at: number): void {
    state.ackAt = at;
    this.acked++;
    this.opts.progress({
      kind: "ack",
      hostname: state.hostname,
      acked: this.acked,
      expected: this.opts.expected.length,
    });
    // After a cancel, the grace timer set then decides when a silent host ends.
    if (this.cancelledBy !== undefined) return;
    state.timer = setTimeout(() => {
      this.silence(state, `acked but no result within ${this.opts.execTimeoutMs} ms`, "");
      this.maybeClose();
    }, this.opts.execTimeoutMs);
  }

  private silence(state: HostState, ackedWhy: string, silentWhy: string): void {
    if (state.result || state.noop) return;
    const durationMs = this.opts.clock() - this.startedAt;
    const base = { hostname: state.hostname, durationMs };
    if (state.ackAt === undefined) {
      const absent = silentWhy === "" ? this.opts.absent?.get(state.hostname) : undefined;
      if (absent !== undefined)
        return this.finish(state, { ...base, status: "absent", short: absent });
      const short = silentWhy || `no acknowledgement within ${this.opts.ackTimeoutMs} ms`;
      this.finish(state, { ...base, status: "no_ack", short });
    } else {
      this.finish(state, {
        ...base,
        status: "no_result",
        short: ackedWhy,
        ackMs: state.ackAt,
      });
    }
  }

  private finishCancelled(state: HostState, short: string): void {
    if (state.result || state.noop) return;
    const durationMs = this.opts.clock() - this.startedAt;
    this.finish(state, {
      hostname: state.hostname,
      status: "cancelled",
      short,
      durationMs,
      ...(state.ackAt === undefined ? {} : { ackMs: state.ackAt }),
    });
  }

  private finish(state: HostState, result: HostResult): void {
    clearTimeout(state.timer);
    state.result = result;
    this.pending--;
    this.emitted++;
    this.opts.progress({
      kind: "host",
      result,
      done: this.emitted,
      expected: this.opts.expected.length,
    });
  }

  private ackWindowClosed(): void {
    this.ackWindowOver = true;
    for (const s of this.hosts.values()) if (s.ackAt === undefined) this.silence(s, "", "");
    this.maybeClose();
  }

  private maybeClose(): void {
    if (this.finishedAt !== undefined || this.pending > 0) return;
    if (this.opts.expected.length === 0 && !this.ackWindowOver) return;
    this.finishedAt = this.opts.clock();
    clearTimeout(this.ackTimer);
    for (const s of this.hosts.values()) clearTimeout(s.timer);
    this.resolveDone();
  }
}
