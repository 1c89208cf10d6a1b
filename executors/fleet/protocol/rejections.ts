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
  | "unexpected_host"
  | "unpinned_key"
  | "unsigned_pin"
  | "pending_key"
  | "rejected_key"
  | "stale_registration"
  | "hostname_mismatch"
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

/** Creates a recorder backed by the shared counter. */
export function rejectionRecorder(
  metrics: MetricsRegistry,
  log: Logger,
  component: "agent" | "controller",
): RejectionRecorder {
  const counter: Counter = metrics.counter(
    "commodore_fleet_rejected_total",
    "Fleet messages rejected, by component and reason",
  );
  return {
    record(rejection, fields = {}) {
      counter.inc({ component, reason: rejection.reason });
      log.warn("fleet message rejected", {
        reason: rejection.reason,
        detail: rejection.detail,
        ...fields,
      });
    },
  };
}
