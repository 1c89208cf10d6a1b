/**
 * Every reason a message can be dropped, used as the `reason` label of
 * `commodore_fleet_rejected_total` and in the log line written for each drop.
 */
import type { Counter, MetricsRegistry } from "../../../lib/metrics.ts";
import type { Logger } from "../../../lib/log.ts";

/** Why a message was rejected. */
export type RejectReason =
  | "oversize"
  | "malformed_json"
  | "malformed_envelope"
  | "malformed_payload"
  | "unsupported_version"
  | "malformed_signature"
  | "wrong_namespace"
  | "bad_signature"
  | "unknown_signer"
  | "principal_mismatch"
  | "namespace_not_allowed"
  | "key_not_valid_now"
  | "expired"
  | "not_yet_valid"
  | "ttl_too_long"
  | "replay"
  | "replay_cache_full"
  | "not_open"
  | "unpinned_key"
  | "unsigned_pin"
  | "pending_key"
  | "rejected_key"
  | "stale_registration"
  | "hostname_mismatch"
  /** A registration for an accepted hostname signed by another key than the accepted one. */
  | "key_mismatch"
  /** A registry key of the wrong type or shape (e.g. the index overwritten with a string). */
  | "malformed_registry"
  | "duplicate"
  | "backlog_full"
  /** A signed cancel for a request another sender made. */
  | "foreign_cancel";

/** A rejection with a human-readable detail (never containing secrets). */
export interface Rejection {
  readonly reason: RejectReason;
  readonly detail: string;
}

/** Counts and logs rejections for one component (`agent` or `controller`). */
export interface RejectionRecorder {
  record(rejection: Rejection, fields?: Record<string, unknown>): void;
}

/**
 * Per reason, at most one rejection is logged in full per interval; the others of the
 * interval are counted and logged as one summary line when it ends, so junk on the bus costs a
 * counter increment, never a log line per message.
 */
export const REJECTION_LOG_INTERVAL_MS = 10_000;

interface ReasonWindow {
  suppressed: number;
  lastDetail: string;
}

/** Creates a recorder backed by the shared counter, logging at most twice per reason per interval. */
export function rejectionRecorder(
  metrics: MetricsRegistry,
  log: Logger,
  component: "agent" | "controller",
  intervalMs: number = REJECTION_LOG_INTERVAL_MS,
): RejectionRecorder {
  const counter: Counter = metrics.counter(
    "commodore_fleet_rejected_total",
    "Fleet messages rejected, by component and reason",
  );
  const windows = new Map<RejectReason, ReasonWindow>();
  const flush = (reason: RejectReason, w: ReasonWindow): void => {
    windows.delete(reason);
    if (w.suppressed === 0) return;
    log.warn("fleet messages rejected", {
      reason,
      count: w.suppressed,
      intervalMs,
      lastDetail: w.lastDetail,
    });
  };
  return {
    record(rejection, fields = {}) {
      counter.inc({ component, reason: rejection.reason });
      const open = windows.get(rejection.reason);
      if (open) {
        open.suppressed++;
        open.lastDetail = rejection.detail;
        return;
      }
      log.warn("fleet message rejected", {
        reason: rejection.reason,
        detail: rejection.detail,
        ...fields,
      });
      const w: ReasonWindow = { suppressed: 0, lastDetail: "" };
      setTimeout(() => flush(rejection.reason, w), intervalMs).unref();
      windows.set(rejection.reason, w);
    },
  };
}
