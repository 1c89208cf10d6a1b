/**
 * Reads the node registry: every hostname in the index whose registration still exists, is
 * fresh, and is validly signed by the key it publishes, with the enrollment state of that key
 * (accepted, pending or rejected; see enrollment.ts). A verified registration is remembered by
 * the SHA-256 of its exact text (44 characters kept instead of about a kilobyte per node), so
 * an unchanged entry costs no parsing and no cryptography on the next read, only a hash and the
 * freshness and enrollment checks, and yields the same {@link NodeInfo} object while its state
 * holds; changed ones (every heartbeat changes `sent_at`) are verified once each, all of a read
 * together, on the verification threads when the verifier can; expired entries are pruned.
 *
 * Freshness: a registration whose `sent_at` is older than its own `ttl_ms` (capped by
 * `maxRegistrationTtlMs`) plus the clock skew, or in the future by more than the skew, is
 * refused as `stale_registration`, so an old signed registration cannot be replayed.
 */
import type { Logger } from "../../../lib/log.ts";
import type { RedisClient } from "../../../lib/redis/client.ts";
import type { PayloadVerifier } from "../protocol/auth.ts";
import type { FleetNames } from "../protocol/channels.ts";
import { openEnvelope } from "../protocol/envelope.ts";
import { parsePublicKeyLine } from "../protocol/keys.ts";
import {
  SUPPORTED_PROTOCOLS,
  registrationSchema,
  type RegistrationMessage,
} from "../protocol/messages.ts";
import type { Rejection, RejectionRecorder } from "../protocol/rejections.ts";
import type { NodeInfo } from "../types.ts";
import type { Candidate, Enrollment, EnrollmentDecision } from "./enrollment.ts";
import { textDigest } from "./text-digest.ts";

const MGET_CHUNK = 1_000;
/** Sorts hostnames as `localeCompare` does, without building a collator per comparison. */
const byHostname = new Intl.Collator().compare;

/** Freshness limits for registrations. */
export interface FreshnessOptions {
  /** Clock difference tolerated between agents and the controller. */
  readonly clockSkewMs: number;
  /** Cap on the `ttl_ms` a registration may claim. */
  readonly maxRegistrationTtlMs: number;
}

/** A registration whose self-signature verified, remembered by the digest of its text. */
interface Verified {
  readonly digest: string;
  readonly reg: RegistrationMessage;
  readonly candidate: Candidate;
  /** The node as last listed, reused while its enrollment decision is the same. */
  listed?: { readonly decision: EnrollmentDecision; readonly node: NodeInfo };
}

function sameDecision(a: EnrollmentDecision, b: EnrollmentDecision): boolean {
  return (
    a.state === b.state && a.via === b.via && a.keyChanged === b.keyChanged && a.detail === b.detail
  );
}

/** Reads and verifies the registry, remembering what it verified. */
export class RegistryReader {
  private readonly verified = new Map<string, Verified>();
  private readonly pendingLogged = new Set<string>();
  private accepted = new Map<string, string>();
  private states = new Map<string, Rejection>();

  constructor(
    private readonly redis: RedisClient,
    private readonly names: FleetNames,
    private readonly enrollment: Enrollment,
    private readonly verifier: PayloadVerifier,
    private readonly rejections: RejectionRecorder,
    private readonly freshness: FreshnessOptions,
    private readonly logger: Logger,
  ) {}

  /**
   * The key accepted for `hostname` (what its replies must be signed with): the one its live
   * registration was accepted with at the last read, else the one a stored record accepts.
   */
  acceptedKey(hostname: string): string | undefined {
    return this.accepted.get(hostname) ?? this.enrollment.storedKey(hostname);
  }

  /** Why a hostname without an accepted key may not answer (pending or rejected key). */
  notAccepted(hostname: string): Rejection {
    return (
      this.states.get(hostname) ?? {
        reason: "unpinned_key",
        detail: `no key is accepted for ${hostname}`,
      }
    );
  }

  /** Every live, fresh, self-signed registration with its enrollment state, by hostname. */
  async read(now: number): Promise<NodeInfo[]> {
    await this.enrollment.refresh(now);
    const hosts = await this.redis.zrange(this.names.nodeIndex, 0, -1);
    const nodes: NodeInfo[] = [];
    const stale: string[] = [];
    for (let i = 0; i < hosts.length; i += MGET_CHUNK) {
      const chunk = hosts.slice(i, i + MGET_CHUNK);
      const values = await this.redis.mget(chunk.map((h) => this.names.node(h)));
      const entries: (Verified | Promise<Verified | undefined>)[] = [];
      for (const [j, host] of chunk.entries()) {
        const raw = values[j];
        if (raw === null || raw === undefined) {
          stale.push(host);
          this.verified.delete(host);
          continue;
        }
        const digest = textDigest(raw);
        const cached = this.verified.get(host);
        entries.push(cached?.digest === digest ? cached : this.verify(host, raw, digest, now));
      }
      // Changed registrations of the chunk are verified together, and trust-on-first-use
      // acceptances made together; unchanged entries wait for neither.
      const verified = await Promise.all(entries);
      const listed = verified.map((entry) => entry && this.list(entry, now));
      for (const node of await Promise.all(listed)) if (node) nodes.push(node);
    }
    if (stale.length > 0) await this.redis.zrem(this.names.nodeIndex, ...stale);
    const accepted = new Map<string, string>();
    const states = new Map<string, Rejection>();
    for (const n of nodes) {
      if (n.state === "accepted") accepted.set(n.hostname, n.publicKey);
      else
        states.set(n.hostname, {
          reason: n.state === "rejected" ? "rejected_key" : "pending_key",
          detail: `${n.hostname} key ${n.fingerprint} is ${n.state}${n.detail === undefined ? "" : ` (${n.detail})`}`,
        });
    }
    this.accepted = accepted;
    this.states = states;
    return nodes.sort((a, b) => byHostname(a.hostname, b.hostname));
  }

  /**
   * The node for a verified registration, if it is fresh; asynchronous only when it takes a
   * trust-on-first-use acceptance.
   */
  private list(entry: Verified, now: number): NodeInfo | undefined | Promise<NodeInfo | undefined> {
    const { reg, candidate } = entry;
    const fresh = this.freshnessRefusal(reg, now);
    if (fresh) {
      this.verified.delete(candidate.hostname);
      this.rejections.record(fresh, { hostname: candidate.hostname, message: "registration" });
      return undefined;
    }
    const decision = this.enrollment.decide(candidate, now);
    if (this.enrollment.mayTrustOnFirstUse(decision)) return this.trustOnFirstUse(entry, now);
    return this.node(entry, decision);
  }

  private async trustOnFirstUse(entry: Verified, now: number): Promise<NodeInfo> {
    const { candidate } = entry;
    const won = await this.enrollment.accept(candidate, "tofu", "tofu", now, true);
    const decision: EnrollmentDecision = won
      ? { state: "accepted", via: "tofu" }
      : this.enrollment.decide(candidate, now);
    return this.node(entry, decision);
  }

  private node(entry: Verified, decision: EnrollmentDecision): NodeInfo {
    const { reg, candidate } = entry;
    if (decision.state !== "accepted") this.logPending(candidate, decision.state, decision.detail);
    if (entry.listed && sameDecision(entry.listed.decision, decision)) return entry.listed.node;
    const node: NodeInfo = {
      hostname: candidate.hostname,
      facts: reg.facts,
      fingerprint: candidate.fingerprint,
      publicKey: candidate.keyLine,
      version: reg.version,
      lastSeen: new Date(reg.sent_at).toISOString(),
      state: decision.state,
      ...(decision.via === undefined ? {} : { via: decision.via }),
      ...(decision.keyChanged === true ? { keyChanged: true } : {}),
      ...(decision.detail === undefined ? {} : { detail: decision.detail }),
    };
    entry.listed = { decision, node };
    return node;
  }

  private freshnessRefusal(reg: RegistrationMessage, now: number): Rejection | undefined {
    const { clockSkewMs, maxRegistrationTtlMs } = this.freshness;
    const ttl = Math.min(reg.ttl_ms, maxRegistrationTtlMs);
    if (reg.sent_at > now + clockSkewMs)
      return {
        reason: "stale_registration",
        detail: `registration of ${reg.hostname} is dated ${reg.sent_at - now} ms in the future`,
      };
    if (now - reg.sent_at > ttl + clockSkewMs)
      return {
        reason: "stale_registration",
        detail: `registration of ${reg.hostname} was signed ${now - reg.sent_at} ms ago, more than its ${ttl} ms lifetime`,
      };
    return undefined;
  }

  private logPending(c: Candidate, state: string, detail: string | undefined): void {
    const id = `${c.hostname} ${c.fingerprint} ${state}`;
    if (this.pendingLogged.has(id)) return;
    if (this.pendingLogged.size >= MGET_CHUNK * 100) this.pendingLogged.clear();
    this.pendingLogged.add(id);
    this.logger.info(`host key ${state}`, {
      hostname: c.hostname,
      fingerprint: c.fingerprint,
      ...(detail === undefined ? {} : { detail }),
    });
  }

  private async verify(
    host: string,
    raw: string,
    digest: string,
    now: number,
  ): Promise<Verified | undefined> {
    const refuse = (r: Rejection) => {
      this.verified.delete(host);
      this.rejections.record(r, { hostname: host, message: "registration" });
      return undefined;
    };
    const opened = openEnvelope(raw, registrationSchema, SUPPORTED_PROTOCOLS);
    if (!opened.ok) return refuse(opened.rejection);
    const { message: reg, payload, sig } = opened.opened;
    if (reg.hostname !== host)
      return refuse({
        reason: "hostname_mismatch",
        detail: `registration under ${host} names ${reg.hostname}`,
      });
    let fingerprint: string;
    let keyLine: string;
    try {
      const key = parsePublicKeyLine(reg.public_key);
      fingerprint = key.fingerprint;
      keyLine = key.line;
    } catch (err) {
      return refuse({
        reason: "malformed_payload",
        detail: `public_key: ${(err as Error).message}`,
      });
    }
    const bad = this.verifier.verifyAsync
      ? await this.verifier.verifyAsync(payload, sig, keyLine, now)
      : this.verifier.verify(payload, sig, keyLine, now);
    if (bad) return refuse(bad);
    const candidate: Candidate = {
      hostname: host,
      keyLine,
      fingerprint,
      ...(reg.certificate === undefined ? {} : { certificate: reg.certificate }),
    };
    const entry: Verified = { digest, reg, candidate };
    this.verified.set(host, entry);
    return entry;
  }
}
