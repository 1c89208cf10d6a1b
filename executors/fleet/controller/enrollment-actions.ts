/**
 * The operator's side of enrollment (`nodes pending|accept|reject|revoke|retire`): every action
 * works on a host's *current*, verified registration, so an operator accepts exactly the key
 * the host presents now (optionally checked against a fingerprint read out of band), and the
 * decision is written as a controller-signed record.
 */
import { selectNodes } from "../agent/matcher.ts";
import { parsePublicKeyLine } from "../protocol/keys.ts";
import type { RequestMessage } from "../protocol/messages.ts";
import type { EnrollmentChange, NodeInfo } from "../types.ts";
import { EnrollmentError, type Candidate, type Enrollment } from "./enrollment.ts";
import type { RegistryReader } from "./registry-reader.ts";

/** What `nodes accept --all-matching` did. */
export interface BulkAcceptance {
  readonly changes: readonly EnrollmentChange[];
  /** Matching pending hosts left alone because a different key was accepted for them before. */
  readonly keyChanged: readonly NodeInfo[];
}

/**
 * What {@link FleetEnrollment.acceptLocal} found for the embedded local agent's key:
 *
 * - `accepted`: nothing was accepted for the hostname and the key was not refused, so this call
 *   accepted it (`via: local`);
 * - `already-accepted`: the key was accepted before (a record, known_hosts or a certificate);
 * - `rejected`: the key is rejected or revoked (by an operator, or `@revoked` in known_hosts) and
 *   stays so: the auto-accept never overrides an operator's decision;
 * - `key-differs`: another key is accepted for the hostname, which is left alone.
 */
export interface LocalAcceptance {
  readonly outcome: "accepted" | "already-accepted" | "rejected" | "key-differs";
  readonly hostname: string;
  /** `SHA256:…` of the local key. */
  readonly fingerprint: string;
  /** Why, for `rejected` and `key-differs` (never secret). */
  readonly detail?: string;
}

/** Enrollment actions of one controller. */
export interface FleetEnrollment {
  /** Every registered host in any enrollment state, by hostname (one registry read). */
  registered(): Promise<NodeInfo[]>;
  /** Registered hosts whose key is pending or rejected, by hostname. */
  unaccepted(): Promise<NodeInfo[]>;
  /**
   * Accepts the key `hostname` presents now. With `fingerprint`, the key must have it (the
   * operator compared it out of band, e.g. `ssh-keygen -lf` on the host).
   */
  accept(hostname: string, by: string, fingerprint?: string): Promise<EnrollmentChange>;
  /** Accepts every pending host `match` selects, except hosts whose key changed. */
  acceptMatching(match: RequestMessage["match"], by: string): Promise<BulkAcceptance>;
  /** Rejects the pending key `hostname` presents now. */
  reject(hostname: string, by: string): Promise<EnrollmentChange>;
  /** Withdraws the acceptance of `hostname`'s key and rejects that key. */
  revoke(hostname: string, by: string): Promise<EnrollmentChange>;
  /**
   * Decommissions the accepted `hostname`: it is no longer expected (nor listed `absent`), and
   * older acceptances stay void; its key is not rejected, so a rebuilt host enrolls anew.
   */
  retire(hostname: string, by: string): Promise<EnrollmentChange>;
  /**
   * Accepts `keyLine` for `hostname` as the embedded local agent, unless a key is accepted for
   * it or this key is rejected or revoked (see {@link LocalAcceptance}).
   */
  acceptLocal(hostname: string, keyLine: string): Promise<LocalAcceptance>;
}

function candidateOf(node: NodeInfo): Candidate {
  return { hostname: node.hostname, keyLine: node.publicKey, fingerprint: node.fingerprint };
}

function change(node: NodeInfo, to: NodeInfo["state"]): EnrollmentChange {
  return { hostname: node.hostname, fingerprint: node.fingerprint, from: node.state, to };
}

/** Builds the actions over a registry reader and its enrollment. */
export function enrollmentActions(
  registry: RegistryReader,
  enrollment: Enrollment,
  now: () => number,
): FleetEnrollment {
  const registered = async (hostname: string): Promise<NodeInfo> => {
    // The key the host presents now: its live registration, not an absent host's last one.
    const node = (await registry.read(now())).find(
      (n) => n.hostname === hostname && n.absent !== true,
    );
    if (node) return node;
    throw new EnrollmentError(
      "E_NODE_NOT_REGISTERED",
      `${hostname} has no live registration`,
      "start the agent on that host (its key must be registered to be accepted); `nodes pending` lists waiting hosts",
    );
  };
  return {
    registered: () => registry.read(now()),
    async unaccepted() {
      return (await registry.read(now())).filter((n) => n.state !== "accepted");
    },
    async accept(hostname, by, fingerprint) {
      const node = await registered(hostname);
      if (fingerprint !== undefined && fingerprint !== node.fingerprint)
        throw new EnrollmentError(
          "E_NODE_FINGERPRINT",
          `${hostname} presents ${node.fingerprint}, not ${fingerprint}`,
          "do not accept it: the key on the wire is not the one you checked on the host",
        );
      if (node.state === "accepted") return change(node, "accepted");
      await enrollment.accept(candidateOf(node), "operator", by, now());
      return change(node, "accepted");
    },
    async acceptMatching(match, by) {
      const pending = (await registry.read(now())).filter((n) => n.state === "pending");
      const nodes = selectNodes(match, pending);
      const changes: EnrollmentChange[] = [];
      const keyChanged: NodeInfo[] = [];
      for (const node of nodes) {
        if (node.keyChanged === true) {
          keyChanged.push(node);
          continue;
        }
        await enrollment.accept(candidateOf(node), "operator", by, now());
        changes.push(change(node, "accepted"));
      }
      return { changes, keyChanged };
    },
    async reject(hostname, by) {
      const node = await registered(hostname);
      if (node.state === "accepted")
        throw new EnrollmentError(
          "E_NODE_STATE",
          `${hostname}'s key ${node.fingerprint} is accepted`,
          `use \`nodes revoke ${hostname}\` to withdraw an accepted key`,
        );
      if (node.state === "rejected") return change(node, "rejected");
      await enrollment.reject(candidateOf(node), by, now());
      return change(node, "rejected");
    },
    async revoke(hostname, by) {
      const node = (await registry.read(now())).find(
        (n) => n.hostname === hostname && n.state === "accepted",
      );
      const record = enrollment.acceptedRecord(hostname);
      const keyLine = node?.state === "accepted" ? node.publicKey : record?.public_key;
      if (keyLine === undefined)
        throw new EnrollmentError(
          "E_NODE_STATE",
          `no key is accepted for ${hostname}`,
          "`nodes pending` lists hosts waiting for acceptance; `nodes reject` refuses a pending key",
        );
      const fingerprint = parsePublicKeyLine(keyLine).fingerprint;
      await enrollment.reject({ hostname, keyLine, fingerprint }, by, now());
      return { hostname, fingerprint, from: "accepted", to: "rejected" };
    },
    async retire(hostname, by) {
      const nodes = await registry.read(now());
      const node = nodes.find((n) => n.hostname === hostname && n.state === "accepted");
      if (node === undefined)
        throw new EnrollmentError(
          "E_NODE_STATE",
          `${hostname} is not an accepted host`,
          "`nodes` lists accepted hosts (absent ones included); `nodes reject` refuses a pending key",
        );
      await enrollment.retire(hostname, by, now());
      await registry.forget(hostname);
      const notes: string[] = [];
      if (node.absent !== true)
        notes.push("its agent is still registering: stop it, or it waits in `nodes pending`");
      if (node.via === "known_hosts" || node.via === "certificate")
        notes.push(
          `it is accepted by ${node.via === "known_hosts" ? "a known_hosts line" : "a host certificate"}: remove that too, or it is accepted again when it registers`,
        );
      return {
        hostname,
        fingerprint: node.fingerprint,
        from: "accepted",
        to: "retired",
        ...(notes.length > 0 ? { note: notes.join("; ") } : {}),
      };
    },
    async acceptLocal(hostname, keyLine) {
      const key = parsePublicKeyLine(keyLine);
      const candidate = { hostname, keyLine: key.line, fingerprint: key.fingerprint };
      const result = (outcome: LocalAcceptance["outcome"], detail?: string): LocalAcceptance => ({
        outcome,
        hostname,
        fingerprint: key.fingerprint,
        ...(detail === undefined ? {} : { detail }),
      });
      // The stored records as they are now (a revocation from the CLI or another replica while
      // this process was down included), before anything is written: accepting would lift a
      // rejection of this key, which only an operator's `nodes accept` may do.
      await enrollment.refresh(now());
      const decision = enrollment.decide(candidate, now());
      if (decision.state === "rejected")
        return result("rejected", decision.detail ?? "key rejected");
      if (decision.state === "accepted") return result("already-accepted");
      if (decision.keyChanged === true)
        return result("key-differs", decision.detail ?? "another key is accepted");
      const accepted = await enrollment.accept(candidate, "local", "embedded", now(), true);
      return accepted
        ? result("accepted")
        : result("key-differs", `another key was accepted for ${hostname} meanwhile`);
    },
  };
}
