/**
 * Enrollment: which host key the controller accepts for which hostname. Redis is a bus, not a
 * trust anchor, so a decision is believed only when a controller key signed it:
 *
 * - `{prefix}:pins` (hash hostname → envelope) holds `accepted` records and `{prefix}:rejected`
 *   (hash key fingerprint → envelope) holds `rejected` ones, each an SSHSIG-signed payload in
 *   the enrollment namespace, verified on every change against the enrollment signers (the
 *   controller's own key unless `enrollmentSignersPath` lists more). A record that is unsigned,
 *   badly signed, or filed under another hostname/fingerprint than it names is ignored and
 *   counted once as `unsigned_pin`.
 * - The controller's known_hosts file adds static acceptances (plain lines), CAs whose host
 *   certificates auto-accept (`@cert-authority`) and refused keys (`@revoked`).
 * - In `tofu` mode (opt-in) the first verified registration of a hostname nobody accepted yet
 *   is accepted and recorded; otherwise it stays `pending` until an operator accepts it.
 *
 * Everything here is evaluated per registration by the registry reader; nothing unverified
 * ever makes a host expected, provisionable or able to answer.
 */
import { z } from "zod";
import { CommodoreError } from "../../../lib/errors.ts";
import type { Logger } from "../../../lib/log.ts";
import type { RedisClient } from "../../../lib/redis/client.ts";
import type { PayloadSigner, PayloadVerifier } from "../protocol/auth.ts";
import type { FleetNames } from "../protocol/channels.ts";
import { openEnvelope, sealEnvelope } from "../protocol/envelope.ts";
import { parsePublicKeyLine } from "../protocol/keys.ts";
import { PROTOCOL_VERSION } from "../protocol/messages.ts";
import type { Rejection, RejectionRecorder } from "../protocol/rejections.ts";
import type { EnrollmentMode, EnrollmentVia, NodeState } from "../types.ts";
import { checkHostCertificate } from "./host-certificate.ts";
import type { KnownHosts } from "./known-hosts.ts";
import type { EnrollmentLedger } from "./ledger.ts";
import { textDigest } from "./text-digest.ts";

/** Longest `by` (operator or policy name) kept in a record. */
const MAX_ACTOR = 255;
/** Bound on remembered bad record texts (each is counted once). */
const BAD_RECORDS_MAX = 10_000;
/** Bound on cached certificate verdicts. */
const CERT_CACHE_MAX = 100_000;

const recordSchema = z.object({
  protocol: z.literal(PROTOCOL_VERSION),
  type: z.literal("enrollment"),
  decision: z.enum(["accepted", "rejected"]),
  hostname: z.string().min(1).max(255),
  public_key: z.string().min(1).max(16_384),
  via: z.enum(["operator", "tofu", "local"]),
  by: z.string().min(1).max(MAX_ACTOR),
  signer: z.string().min(1).max(MAX_ACTOR),
  at: z.number().int().nonnegative(),
});
/** A controller-signed enrollment decision as stored in Redis. */
export type EnrollmentRecord = z.infer<typeof recordSchema>;

/** An enrollment command that cannot be carried out. */
export class EnrollmentError extends CommodoreError {
  constructor(
    code: "E_NODE_NOT_REGISTERED" | "E_NODE_FINGERPRINT" | "E_NODE_STATE",
    message: string,
    hint: string,
  ) {
    super(code, message, { hint });
  }
}

/** What a registration's key amounts to. */
export interface EnrollmentDecision {
  readonly state: NodeState;
  /** How an accepted key was accepted; for a rejected one, why. */
  readonly via?: EnrollmentVia;
  /** A different key is accepted for this hostname (the registration's key is not it). */
  readonly keyChanged?: boolean;
  /** Human detail for logs and `nodes pending` (never secret). */
  readonly detail?: string;
}

/** One registration as the enrollment sees it. */
export interface Candidate {
  readonly hostname: string;
  readonly keyLine: string;
  readonly fingerprint: string;
  readonly certificate?: string | undefined;
}

/** Everything {@link Enrollment} needs. */
export interface EnrollmentDeps {
  readonly redis: RedisClient;
  readonly names: FleetNames;
  /** Signs records with the controller key in the enrollment namespace. */
  readonly signer: PayloadSigner;
  /** Checks a record's signature; the claimed identity is the record's `signer` principal. */
  readonly verifier: PayloadVerifier;
  /** Principal written into records this controller signs. */
  readonly principal: string;
  readonly mode: EnrollmentMode;
  readonly knownHosts: KnownHosts | undefined;
  readonly clockSkewMs: number;
  readonly rejections: RejectionRecorder;
  readonly logger: Logger;
  /**
   * The state directory's ledger (ledger.ts): rejections and retirements that Redis cannot
   * undo. Without one, decisions live in Redis alone.
   */
  readonly ledger?: EnrollmentLedger | undefined;
}

/** Verified enrollment records and the decisions built on them. */
export class Enrollment {
  private accepted = new Map<string, EnrollmentRecord>();
  private rejected = new Map<string, EnrollmentRecord>();
  /** Records verified, by the digest of their text (see text-digest.ts). */
  private readonly verifiedByDigest = new Map<string, EnrollmentRecord>();
  /** Digests of records that did not verify. */
  private readonly badDigests = new Set<string>();
  private readonly misplacedSeen = new Set<string>();
  private readonly certVerdicts = new Map<string, ReturnType<typeof checkHostCertificate>>();
  /** Replayed or restored records already reported, so each is logged once. */
  private readonly reported = new Set<string>();

  constructor(private readonly deps: EnrollmentDeps) {}

  /** The configured mode. */
  get mode(): EnrollmentMode {
    return this.deps.mode;
  }

  /** Reloads both record hashes, verifying what changed. */
  async refresh(now: number): Promise<void> {
    const { redis, names } = this.deps;
    const [pins, rejected] = await Promise.all([
      redis.hgetall(names.pins),
      redis.hgetall(names.rejectedKeys),
    ]);
    const seen = new Set<string>();
    // Records not verified before are checked together (a restart with thousands of accepted
    // hosts verifies them in parallel, not one await after the other).
    const open = (hash: Record<string, string>, key: string) =>
      Promise.all(
        Object.entries(hash).map(async ([field, raw]) => {
          const digest = textDigest(raw);
          seen.add(digest);
          return [field, digest, await this.open(raw, now, key, field, digest)] as const;
        }),
      );
    const [pinRecords, rejectedRecords] = await Promise.all([
      open(pins, names.pins),
      open(rejected, names.rejectedKeys),
    ]);
    const accepted = new Map<string, EnrollmentRecord>();
    for (const [host, digest, rec] of pinRecords) {
      if (rec?.decision === "accepted" && rec.hostname === host) accepted.set(host, rec);
      else if (rec)
        this.misplaced(digest, names.pins, host, `record under ${host} is not its acceptance`);
    }
    const refused = new Map<string, EnrollmentRecord>();
    for (const [fingerprint, digest, rec] of rejectedRecords) {
      if (rec?.decision === "rejected" && fingerprintOf(rec.public_key) === fingerprint)
        refused.set(rec.public_key, rec);
      else if (rec)
        this.misplaced(
          digest,
          names.rejectedKeys,
          fingerprint,
          `record under ${fingerprint} is not its rejection`,
        );
    }
    if (this.deps.ledger)
      await this.applyLedger(this.deps.ledger, accepted, refused, rejected, now, seen);
    for (const digest of this.verifiedByDigest.keys())
      if (!seen.has(digest)) this.verifiedByDigest.delete(digest);
    this.accepted = accepted;
    this.rejected = refused;
  }

  /**
   * Holds Redis to the ledger: rejections seen in Redis are written to it; rejections it holds
   * that Redis lost are written back; acceptances dated at or before their key's last rejection
   * or their hostname's retirement are void (old records replayed).
   */
  private async applyLedger(
    ledger: EnrollmentLedger,
    accepted: Map<string, EnrollmentRecord>,
    refused: Map<string, EnrollmentRecord>,
    rejectedRaw: Record<string, string>,
    now: number,
    seen: Set<string>,
  ): Promise<void> {
    const { redis, names, logger } = this.deps;
    ledger.catchUp();
    for (const [keyLine, rec] of refused) {
      const fingerprint = fingerprintOf(keyLine);
      const verdict = ledger.verdict(fingerprint);
      if (verdict?.state === "accepted" && verdict.at >= rec.at) {
        // Re-accepted by an operator after this rejection: the rejection is history.
        refused.delete(keyLine);
        continue;
      }
      if (verdict === undefined || verdict.at < rec.at) {
        const raw = rejectedRaw[fingerprint];
        if (raw !== undefined)
          ledger.append({
            event: "rejected",
            hostname: rec.hostname,
            fingerprint,
            at: rec.at,
            record: raw,
          });
      }
    }
    for (const [fingerprint, verdict] of ledger.rejections()) {
      if (verdict.record === undefined || rejectedRaw[fingerprint] !== undefined) continue;
      const digest = textDigest(verdict.record);
      seen.add(digest);
      const rec = await this.open(verdict.record, now, names.rejectedKeys, fingerprint, digest);
      if (rec?.decision !== "rejected") continue;
      refused.set(rec.public_key, rec);
      await redis.hset(names.rejectedKeys, fingerprint, verdict.record);
      this.reportOnce(`restored ${fingerprint} ${verdict.at}`, () =>
        logger.warn("a rejection deleted from Redis was restored from the enrollment ledger", {
          hostname: rec.hostname,
          fingerprint,
        }),
      );
    }
    for (const [host, rec] of accepted) {
      const fingerprint = fingerprintOf(rec.public_key);
      const verdict = ledger.verdict(fingerprint);
      const retired = ledger.retiredAt(host);
      const revoked = verdict?.state === "rejected" && rec.at <= verdict.at;
      if (!revoked && (retired === undefined || rec.at > retired)) continue;
      accepted.delete(host);
      this.reportOnce(`void ${host} ${rec.at}`, () =>
        this.deps.rejections.record(
          {
            reason: "unsigned_pin",
            detail: `acceptance of ${host} ${fingerprint} dated ${new Date(rec.at).toISOString()} ignored: the key was ${revoked ? "revoked" : "retired"} after it (enrollment ledger)`,
          },
          { redisKey: names.pins, field: host },
        ),
      );
    }
  }

  private reportOnce(id: string, report: () => void): void {
    if (this.reported.has(id)) return;
    if (this.reported.size >= BAD_RECORDS_MAX) this.reported.clear();
    this.reported.add(id);
    report();
  }

  /** The state of `c` under the records loaded by the last {@link refresh}. */
  decide(c: Candidate, now: number): EnrollmentDecision {
    const kh = this.deps.knownHosts;
    if (this.rejected.has(c.keyLine))
      return { state: "rejected", via: "operator", detail: "key rejected by an operator" };
    if (kh?.revoked(c.keyLine) === true)
      return { state: "rejected", via: "known_hosts", detail: "key is @revoked in known_hosts" };
    const record = this.accepted.get(c.hostname);
    if (record?.public_key === c.keyLine) return { state: "accepted", via: record.via };
    if (kh?.accepts(c.hostname, c.keyLine) === true)
      return { state: "accepted", via: "known_hosts" };
    const cert = this.certificate(c, now);
    if (cert?.ok === true) return { state: "accepted", via: "certificate" };
    const keyChanged = record !== undefined;
    const detail = keyChanged
      ? `${c.hostname} now presents ${c.fingerprint}, not the key accepted ${new Date(record.at).toISOString()} by ${record.by}`
      : cert === undefined
        ? "not accepted yet"
        : `certificate refused: ${cert.detail}`;
    return { state: "pending", ...(keyChanged ? { keyChanged } : {}), detail };
  }

  /** True when `tofu` mode may accept a pending key on sight (no key accepted for its hostname). */
  mayTrustOnFirstUse(decision: EnrollmentDecision): boolean {
    return (
      this.deps.mode === "tofu" && decision.state === "pending" && decision.keyChanged !== true
    );
  }

  /**
   * Records `c`'s key as accepted for its hostname. `onlyIfUnset` (tofu, local) never replaces
   * an existing acceptance: the first writer wins, and the key now in force is returned.
   */
  async accept(
    c: Candidate,
    via: "operator" | "tofu" | "local",
    by: string,
    now: number,
    onlyIfUnset = false,
  ): Promise<boolean> {
    const { redis, names } = this.deps;
    const { raw, record } = this.seal("accepted", c, via, by, now);
    if (onlyIfUnset) {
      const set = await redis.hsetnx(names.pins, c.hostname, raw);
      if (set === 0) {
        // Someone accepted a key first: believe it only if it verifies (one field, not a refresh).
        const current = await redis.hget(names.pins, c.hostname);
        const rec =
          current === null
            ? undefined
            : await this.open(current, now, names.pins, c.hostname, textDigest(current));
        if (rec?.decision === "accepted" && rec.hostname === c.hostname)
          this.accepted.set(c.hostname, rec);
        return rec?.decision === "accepted" && rec.public_key === c.keyLine;
      }
    } else {
      const ledger = this.deps.ledger;
      // An operator lifting a rejection: the ledger learns it first, so the restored rejection
      // does not come back.
      if (ledger?.verdict(c.fingerprint)?.state === "rejected")
        ledger.append({
          event: "accepted",
          hostname: c.hostname,
          fingerprint: c.fingerprint,
          at: now,
        });
      await redis.hset(names.pins, c.hostname, raw);
    }
    await redis.hdel(names.rejectedKeys, c.fingerprint);
    // What this controller just wrote and signed needs no re-read: a bulk or TOFU acceptance of
    // N hosts costs 2N commands, not N full refreshes.
    this.verifiedByDigest.set(textDigest(raw), record);
    this.accepted.set(c.hostname, record);
    this.rejected.delete(c.keyLine);
    this.deps.logger.info("host key accepted", {
      hostname: c.hostname,
      fingerprint: c.fingerprint,
      via,
      by,
    });
    return true;
  }

  /** Records `c`'s key as rejected (it stops being listed as pending and can never answer). */
  async reject(c: Candidate, by: string, now: number): Promise<void> {
    const { redis, names } = this.deps;
    const { raw, record } = this.seal("rejected", c, "operator", by, now);
    // Durable in the state directory before Redis, and both before it is acknowledged.
    this.deps.ledger?.append({
      event: "rejected",
      hostname: c.hostname,
      fingerprint: c.fingerprint,
      at: now,
      record: raw,
    });
    await redis.hset(names.rejectedKeys, c.fingerprint, raw);
    if (this.accepted.get(c.hostname)?.public_key === c.keyLine) {
      await redis.hdel(names.pins, c.hostname);
      this.accepted.delete(c.hostname);
    }
    this.verifiedByDigest.set(textDigest(raw), record);
    this.rejected.set(c.keyLine, record);
    this.deps.logger.warn("host key rejected", {
      hostname: c.hostname,
      fingerprint: c.fingerprint,
      by,
    });
  }

  /**
   * Decommissions `hostname`: its acceptance is removed, and with a ledger every acceptance
   * dated before now stays void (a replayed record does not bring it back). The key is not
   * rejected: a host rebuilt under the same name enrolls again like a new one. Returns the
   * record that accepted it, if one did.
   */
  async retire(hostname: string, by: string, now: number): Promise<EnrollmentRecord | undefined> {
    const { redis, names } = this.deps;
    const record = this.accepted.get(hostname);
    this.deps.ledger?.append({ event: "retired", hostname, at: now });
    await redis.hdel(names.pins, hostname);
    this.accepted.delete(hostname);
    this.deps.logger.warn("host retired", { hostname, by });
    return record;
  }

  /**
   * The key a stored record accepts for `hostname`, unless that key has since been rejected or
   * is `@revoked`: what replies from the host must be signed with even while its registration
   * is missing or shows another key.
   */
  storedKey(hostname: string): string | undefined {
    const key = this.accepted.get(hostname)?.public_key;
    if (key === undefined || this.rejected.has(key)) return undefined;
    return this.deps.knownHosts?.revoked(key) === true ? undefined : key;
  }

  /** Hostnames a stored record accepts a key for (a rejected or `@revoked` one included). */
  acceptedHostnames(): IterableIterator<string> {
    return this.accepted.keys();
  }

  /** The stored acceptance of `hostname`, if any. */
  acceptedRecord(hostname: string): EnrollmentRecord | undefined {
    return this.accepted.get(hostname);
  }

  private certificate(c: Candidate, now: number) {
    const kh = this.deps.knownHosts;
    if (c.certificate === undefined || kh === undefined) return undefined;
    const id = `${c.hostname}\n${c.keyLine}\n${c.certificate}`;
    const cached = this.certVerdicts.get(id);
    if (cached?.ok === true && now - this.deps.clockSkewMs <= cached.validUntil) return cached;
    if (cached?.ok === false) return cached;
    const verdict = checkHostCertificate(
      c.certificate,
      c.hostname,
      c.keyLine,
      kh.authoritiesFor(c.hostname),
      now,
      this.deps.clockSkewMs,
    );
    if (this.certVerdicts.size >= CERT_CACHE_MAX) this.certVerdicts.clear();
    if (verdict.ok || !verdict.detail.includes("not yet valid")) this.certVerdicts.set(id, verdict);
    return verdict;
  }

  private seal(
    decision: EnrollmentRecord["decision"],
    c: Candidate,
    via: EnrollmentRecord["via"],
    by: string,
    now: number,
  ): { raw: string; record: EnrollmentRecord } {
    const record: EnrollmentRecord = {
      protocol: PROTOCOL_VERSION,
      type: "enrollment",
      decision,
      hostname: c.hostname,
      public_key: c.keyLine,
      via,
      by: by.slice(0, MAX_ACTOR),
      signer: this.deps.principal.slice(0, MAX_ACTOR),
      at: now,
    };
    return { raw: sealEnvelope(record, this.deps.signer), record };
  }

  /** The record `raw` (whose digest is `digest`) if it verifies; checked once per text. */
  private async open(
    raw: string,
    now: number,
    key: string,
    field: string,
    digest: string,
  ): Promise<EnrollmentRecord | undefined> {
    const known = this.verifiedByDigest.get(digest);
    if (known) return known;
    if (this.badDigests.has(digest)) return undefined;
    const opened = openEnvelope(raw, recordSchema);
    if (!opened.ok) return this.bad(digest, key, field, opened.rejection.detail);
    const { message, payload, sig } = opened.opened;
    const v = this.deps.verifier;
    const refusal = v.verifyAsync
      ? await v.verifyAsync(payload, sig, message.signer, now)
      : v.verify(payload, sig, message.signer, now);
    if (refusal) return this.bad(digest, key, field, `${refusal.reason}: ${refusal.detail}`);
    this.verifiedByDigest.set(digest, message);
    return message;
  }

  /** A record that does not verify: remembered by its digest, so it is counted once. */
  private bad(digest: string, key: string, field: string, detail: string): undefined {
    if (this.badDigests.has(digest)) return undefined;
    if (this.badDigests.size >= BAD_RECORDS_MAX) this.badDigests.clear();
    this.badDigests.add(digest);
    this.count(key, field, detail);
    return undefined;
  }

  /** A valid record filed under another hostname or fingerprint: counted once per place. */
  private misplaced(digest: string, key: string, field: string, detail: string): void {
    const id = `${key}\0${field}\0${digest}`;
    if (this.misplacedSeen.has(id)) return;
    if (this.misplacedSeen.size >= BAD_RECORDS_MAX) this.misplacedSeen.clear();
    this.misplacedSeen.add(id);
    this.count(key, field, detail);
  }

  private count(key: string, field: string, detail: string): void {
    const rejection: Rejection = {
      reason: "unsigned_pin",
      detail: `enrollment record ${key} ${field} ignored: ${detail}`,
    };
    this.deps.rejections.record(rejection, { redisKey: key, field });
  }
}

/** `SHA256:…` of a key line, or "" when it does not parse. */
export function fingerprintOf(keyLine: string): string {
  try {
    return parsePublicKeyLine(keyLine).fingerprint;
  } catch {
    return "";
  }
}
