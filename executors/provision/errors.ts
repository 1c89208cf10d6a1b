/**
 * Typed provisioning errors. Each has a stable code and a hint; none carries a secret.
 */
import { CommodoreError } from "../../lib/errors.ts";

/** A run for this host is already pending or running. */
export class RunAlreadyPendingError extends CommodoreError {
  constructor(
    readonly host: string,
    readonly existingJobId: string,
  ) {
    super("E_PROVISION_ALREADY_PENDING", `a provisioning run for ${host} is already pending`, {
      hint: `wait for job ${existingJobId} to finish`,
    });
  }
}

/** A request named a playbook that is malformed, a path, or not in the playbook directory. */
export class PlaybookNotFoundError extends CommodoreError {
  constructor(name: string, reason: string) {
    super("E_PROVISION_PLAYBOOK", `playbook ${JSON.stringify(name)} ${reason}`, {
      hint: "name a playbook file (without .yml) from the configured playbookDir",
    });
  }
}

/** A request carried an extra var that is not in the allow-list, or an unusable value. */
export class ExtraVarRejectedError extends CommodoreError {
  constructor(name: string, reason: string) {
    super("E_PROVISION_EXTRA_VAR", `extra var ${JSON.stringify(name)} ${reason}`, {
      hint: "only variables listed in provision.extraVarsAllowList may be passed, as strings, numbers or booleans",
    });
  }
}

/** A host name or address in a request is not acceptable. */
export class InvalidHostError extends CommodoreError {
  constructor(host: string, reason: string) {
    super("E_PROVISION_HOST", `host ${JSON.stringify(host)} ${reason}`, {
      hint: "give a registered hostname or an IPv4/IPv6 address",
    });
  }
}

/** The host is accepted but absent: its agent sends no heartbeat, so it is not provisioned. */
export class AbsentHostError extends CommodoreError {
  constructor(host: string, why: string) {
    super("E_PROVISION_HOST", `host ${JSON.stringify(host)} is absent (${why}): not provisioned`, {
      hint: "start its agent (the key it presents must be the accepted one), or `nodes retire` a decommissioned host",
    });
  }
}

/** The host's key is not known (no registered agent and no TOFU for its network). */
export class UnknownHostKeyError extends CommodoreError {
  constructor(host: string) {
    super(
      "E_PROVISION_UNKNOWN_HOST_KEY",
      `unknown host key for ${host}: register the agent or allow TOFU for its network`,
      { hint: "start commodore-agent on the host so it registers its signed host key" },
    );
  }
}

/** The key the host presents differs from the pinned one: possible man-in-the-middle. */
export class HostKeyMismatchError extends CommodoreError {
  constructor(host: string, presented: string, pinned: string) {
    super(
      "E_PROVISION_HOST_KEY_CHANGED",
      `host key for ${host} changed: presented ${presented}, pinned ${pinned}; refusing to run`,
      {
        hint: "if the host was reinstalled, let its agent register the new key; otherwise investigate",
      },
    );
  }
}

/** A provisioning job id that does not exist. */
export class UnknownJobError extends CommodoreError {
  constructor(jobId: string) {
    super("E_PROVISION_UNKNOWN_JOB", `no provisioning job ${JSON.stringify(jobId)}`, {
      hint: "job records expire some days after they finish",
    });
  }
}

/** The host did not answer on its SSH port (retried with backoff). */
export class HostUnreachableError extends CommodoreError {
  constructor(host: string, address: string, port: number) {
    super("E_PROVISION_UNREACHABLE", `${host} (${address} port ${port}) did not answer on SSH`, {
      hint: "check that the host is up and sshd listens on the configured port",
    });
  }
}

/** A TOFU host-key pin in Redis failed verification: it was planted or edited. */
export class TamperedPinError extends CommodoreError {
  constructor(name: string, redisKey: string) {
    super(
      "E_PROVISION_PIN_TAMPERED",
      `the pinned host key for ${name} failed verification; refusing to run`,
      {
        hint: `someone with Redis write access changed ${redisKey}; check the host, then DEL that key so the next run pins again`,
      },
    );
  }
}
