/**
 * The fleet executor's public, transport-neutral types: what a caller asks for and the
 * structured result it gets back. Transports format these; they never see protocol messages.
 */

/**
 * Accepted enrollment modes, for option schemas (here, not in controller/enrollment.ts, so the
 * agent's options load none of the controller).
 */
export const ENROLLMENT_MODES = ["manual", "tofu"] as const;
/** How hosts nobody accepted yet are treated. */
export type EnrollmentMode = (typeof ENROLLMENT_MODES)[number];

/** How one host ended up in a fleet request. */
export type HostStatus =
  /** The host acknowledged and completed with exit 0. */
  | "ok"
  /** The host completed with a non-zero exit (including refusals and provider errors). */
  | "failed"
  /** The host was live and expected to answer, but no ack came within the ack timeout. */
  | "no_ack"
  /** The host acknowledged but no result came within the execution timeout. */
  | "no_result"
  /**
   * An accepted host that matches the filter (by its last verified facts) but has no fresh
   * registration, and stayed silent: no heartbeat since its last one, or never seen.
   */
  | "absent"
  /** The job was cancelled before the host finished (agents were told to stop the provider). */
  | "cancelled";

/** One host's outcome, with timings measured by the controller. */
export interface HostResult {
  readonly hostname: string;
  readonly status: HostStatus;
  /** Provider exit code when a `complete` arrived. */
  readonly exit?: number;
  /** One-line human summary (the original's `short`), or the reason for silence. */
  readonly short: string;
  /** The provider's full output object when a `complete` arrived. */
  readonly output?: Readonly<Record<string, unknown>>;
  /**
   * Milliseconds from the job's start to the publish of the request this host answered: 0
   * unless a batched rollout started the host in a later wave.
   */
  readonly startMs?: number;
  /** Milliseconds from publish to the host's `start`. */
  readonly ackMs?: number;
  /** Milliseconds from publish to the host's `complete`. */
  readonly durationMs?: number;
}

/** Counts over all hosts of one request. */
export interface FleetSummary {
  /** Hosts in the answer: accepted hosts the filter matches, plus any that answered unpredicted. */
  readonly expected: number;
  readonly acked: number;
  /** Hosts that answered `noop` (filter did not match them). */
  readonly noop: number;
  readonly ok: number;
  readonly failed: number;
  readonly noAck: number;
  readonly noResult: number;
  /**
   * Accepted hosts that answered (`start`/`complete`) although their last known facts did not
   * predict a match; they are part of the answer with their own status, counted here too.
   */
  readonly unexpected: number;
  /** Accepted hosts without a fresh registration that stayed silent (absent when none did). */
  readonly absent?: number;
  /** Milliseconds from publish to the moment the request was closed. */
  readonly durationMs: number;
  /** Hosts a batched rollout never started (it stopped after too many failures or was cancelled). */
  readonly skipped?: number;
  /** Hosts that ended `cancelled` (absent when none did). */
  readonly cancelled?: number;
}

/** Fact filter: every key must match (glob(3) pattern against the fact's string value). */
export type FactFilter = Readonly<Record<string, string>>;

/**
 * Comparison in a {@link FactCondition}: `==`/`!=` glob match or not, `=~` safe regex search,
 * `<` `<=` `>` `>=` numeric (the fact's leading number, e.g. `4096` of `4096 MiB`).
 */
export type FactOp = "==" | "!=" | "=~" | "<" | "<=" | ">" | ">=";

/** One fact comparison; a missing fact never satisfies any condition (not even `!=`). */
export interface FactCondition {
  readonly fact: string;
  readonly op: FactOp;
  readonly value: string;
}

/** A number of hosts, absolute or as a percentage of the targeted hosts (rounded up, at least 1). */
export type HostAmount = { readonly count: number } | { readonly percent: number };

/** Sliding-window rollout: at most `size` hosts run at once, a new one starts as one finishes. */
export interface BatchPlan {
  readonly size: HostAmount;
  /** Pause after a host finishes before its slot starts the next host. */
  readonly waitMs?: number;
  /** Stop starting new hosts once this many hosts did not end `ok`. */
  readonly stopAfterFailures?: number;
}

/** Targeting beyond the glob filter: AND-ed conditions and an exact hostname list. */
export interface TargetRefinement {
  readonly filters?: readonly FactCondition[];
  /** Exact hostnames; when present the host must be one of them. */
  readonly identities?: readonly string[];
}

/** What a caller asks the fleet to do. */
export interface FleetRequest {
  /** Provider name, e.g. `ping`, `uptime`, `facts`. */
  readonly provider: string;
  /** Provider arguments (positional words from the command line). */
  readonly args: readonly string[];
  /** Fact filter; empty means all hosts. */
  readonly where: FactFilter;
  /** Further conditions (AND-ed with `where`). */
  readonly filters?: readonly FactCondition[];
  /** Exact hostnames to address (AND-ed with the filters). */
  readonly identities?: readonly string[];
  /** Run on a deterministic subset (the first N by hostname) of the matching hosts. */
  readonly limit?: HostAmount;
  /** Roll out as a sliding window instead of all at once. */
  readonly batch?: BatchPlan;
  /** Overrides the ack timeout for this request. */
  readonly ackTimeoutMs?: number;
  /** Overrides the provider's execution timeout for this request. */
  readonly execTimeoutMs?: number;
}

/** The structured result of one fleet request. */
export interface FleetResult {
  /** Protocol request id (also the `reply_to` channel suffix). */
  readonly requestId: string;
  readonly provider: string;
  readonly args: readonly string[];
  readonly where: FactFilter;
  /** One entry per host, sorted by hostname. */
  readonly hosts: readonly HostResult[];
  readonly summary: FleetSummary;
  /** The verified `complete` replies as received, for clients that want the raw protocol. */
  readonly replies: readonly Readonly<Record<string, unknown>>[];
  /** Hostnames a batched rollout never started, sorted. */
  readonly skipped?: readonly string[];
  /** Why a batched rollout stopped early. */
  readonly stoppedReason?: string;
}

/** Progress events emitted while a request runs, in order. */
export type FleetProgress =
  | { readonly kind: "published"; readonly requestId: string; readonly expected: readonly string[] }
  | {
      readonly kind: "ack";
      readonly hostname: string;
      readonly acked: number;
      readonly expected: number;
    }
  | { readonly kind: "noop"; readonly hostname: string }
  | {
      readonly kind: "host";
      readonly result: HostResult;
      readonly done: number;
      readonly expected: number;
    };

/**
 * Where a host key stands with the controller: `accepted` hosts are expected, answer and may be
 * provisioned; `pending` ones wait for an operator (`nodes accept`); `rejected` ones never count.
 */
export type NodeState = "accepted" | "pending" | "rejected";

/**
 * How a key came to be accepted (or, for a rejected key, who refused it): an operator's
 * `nodes accept`, trust on first use, the embedded local agent, a plain or `@revoked` line of the
 * controller's known_hosts, or an OpenSSH host certificate from a `@cert-authority`.
 */
export type EnrollmentVia = "operator" | "tofu" | "local" | "known_hosts" | "certificate";

/** A node as its agent registered itself in Redis (heartbeat-refreshed). */
export interface NodeInfo {
  readonly hostname: string;
  readonly facts: Readonly<Record<string, string>>;
  /** SHA256 fingerprint of the agent's signing (host) key, as `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
  /** The agent's public key line (`ssh-ed25519 AAAA…`). */
  readonly publicKey: string;
  /** Commodore version the agent runs. */
  readonly version: string;
  /** Last heartbeat, ISO 8601. */
  readonly lastSeen: string;
  /** Whether the controller accepts this key for this hostname. */
  readonly state: NodeState;
  /** How the key was accepted (or rejected). */
  readonly via?: EnrollmentVia;
  /** A different key was accepted for this hostname before (pending only). */
  readonly keyChanged?: boolean;
  /** Why a node is pending or rejected, or since when an accepted one is absent. */
  readonly detail?: string;
  /**
   * An accepted host with no fresh registration: listed from its last verified one (its facts
   * and `lastSeen` are from then; never seen: no facts and `lastSeen` empty).
   */
  readonly absent?: boolean;
}

/** One enrollment change made by `nodes accept|reject|revoke|retire`. */
export interface EnrollmentChange {
  readonly hostname: string;
  readonly fingerprint: string;
  readonly from: NodeState;
  /** `retired`: the host was decommissioned (no longer accepted nor expected). */
  readonly to: NodeState | "retired";
  /** What the operator should know about the change (e.g. a retired host still registering). */
  readonly note?: string;
}
