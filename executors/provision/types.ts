/**
 * Data shapes of provisioning: what is asked, what is queued, what a run produces.
 */

/** What caused a run. */
export type ProvisionTrigger = "command" | "callback" | "first-boot" | "knock";

/** Extra vars passed to ansible (checked against the allow-list before use). */
export type ExtraVars = Readonly<Record<string, string | number | boolean>>;

/** The executor's request, as the `provision <host> [playbook]` command builds it. */
export interface ProvisionRequest {
  /** A registered hostname or an address. */
  readonly host: string;
  /** Playbook name; defaults from the host's facts or `defaultPlaybook`. */
  readonly playbook?: string;
  /** Dry run (`ansible-playbook --check`). */
  readonly check?: boolean;
  readonly extraVars?: ExtraVars;
}

/** One queued run as the queue stores it. */
export interface ProvisionJobSpec {
  /** The key runs are exclusive on: a registered hostname, or an address for TOFU hosts. */
  readonly host: string;
  /** The address to connect to, when the trigger knows it (callback, knock). */
  readonly address?: string;
  readonly playbook: string;
  readonly trigger: ProvisionTrigger;
  readonly check: boolean;
  /** Principal id or trigger description, for audit. */
  readonly requestedBy: string;
  readonly extraVars?: ExtraVars;
}

/** The PLAY RECAP of one host. */
export interface Recap {
  readonly ok: number;
  readonly changed: number;
  readonly unreachable: number;
  readonly failed: number;
  readonly skipped: number;
  readonly rescued: number;
  readonly ignored: number;
}

/** How one attempt ended. `unreachable` is retried; the others are final. */
export type RunStatus =
  "succeeded" | "failed" | "unreachable" | "refused" | "timeout" | "error" | "cancelled";

/** The result of one attempt. */
export interface RunOutcome {
  readonly status: RunStatus;
  /** One human line, e.g. `ok=3 changed=1 unreachable=0 failed=0`. Never contains secrets. */
  readonly message: string;
  readonly recap?: Recap;
  /** The per-host log file of this attempt. */
  readonly logFile?: string;
  readonly durationMs: number;
}

/** Life-cycle state of a queued job. */
export type JobState = "pending" | "running" | "retrying" | RunStatus;

/** A job as stored in Redis. */
export interface ProvisionJob extends ProvisionJobSpec {
  readonly id: string;
  readonly state: JobState;
  /** Attempts started so far. */
  readonly attempts: number;
  readonly enqueuedAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** When a retrying job becomes runnable again. */
  readonly nextAttemptAt?: string;
  /** Outcome of the latest finished attempt. */
  readonly outcome?: RunOutcome;
}

/** The executor's result: the finished job. */
export interface ProvisionResult {
  readonly jobId: string;
  readonly host: string;
  readonly playbook: string;
  readonly check: boolean;
  readonly status: RunStatus;
  readonly attempts: number;
  readonly message: string;
  readonly recap?: Recap;
  readonly logFile?: string;
}

/** Progress of a provisioning job as the executor observes it. */
export type ProvisionProgress =
  | { readonly type: "queued"; readonly jobId: string; readonly host: string }
  | { readonly type: "started"; readonly jobId: string; readonly attempt: number }
  | {
      readonly type: "retrying";
      readonly jobId: string;
      readonly attempt: number;
      readonly message: string;
      readonly nextAttemptAt: string;
    };

/** True for states after which a job never changes again. */
export function isFinalState(state: JobState): state is RunStatus {
  return state !== "pending" && state !== "running" && state !== "retrying";
}
