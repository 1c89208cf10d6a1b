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
 * The registry is written by controllers from agents' announcements (registrar.ts), and is only
 * a cache of who is live: it never decides who is expected (controller.ts asks {@link RegistryReader.read} for the accepted hosts, live or
 * `absent`). Its cost is bounded whatever ends up there (older agents, or a login that may still
 * write it): an entry is re-read only
 * when its index score (the heartbeat time) changes, its size is checked (`STRLEN`) before it is
 * fetched, at most {@link MAX_REGISTRY_ENTRIES} index names and
 * {@link MAX_INSPECT_PER_READ} changed entries of unaccepted hosts are looked at per read, and a
 * refused entry is counted once (rate-limited in the log, protocol/rejections.ts).
 *
 * Freshness: a registration whose `sent_at` is older than its own `ttl_ms` (capped by
 * `maxRegistrationTtlMs`) plus the clock skew, or in the future by more than the skew, is
 * refused as `stale_registration`, so an old signed registration cannot be replayed.
 */
import type { Logger } from "../../../lib/log.ts";
import type { RedisClient } from "../../../lib/redis/client.ts";
import type { PayloadVerifier } from "../protocol/auth.ts";
import type { FleetNames } from "../protocol/channels.ts";
import type { RegistrationMessage } from "../protocol/messages.ts";
import type { Rejection, RejectionRecorder } from "../protocol/rejections.ts";
import type { EnrollmentVia, NodeInfo } from "../types.ts";
import {
  fingerprintOf,
  type Candidate,
  type Enrollment,
  type EnrollmentDecision,
} from "./enrollment.ts";
import type { LastKnown } from "./last-known.ts";
import {
  freshnessRefusal,
  openRegistration,
  registrationNode,
  verifyRegistration,
  type FreshnessOptions,
} from "./registration-check.ts";
import type { Claim } from "./registrar.ts";

/** What the reader needs of the registrar (registrar.ts). */
export interface RegistrarView {
  /** Resolves once the registrar listens (and, first time, its census is over). */
  start(): Promise<void>;
  /** Claims on accepted hostnames by other keys. */
  pendingClaims(): Iterable<Claim>;
}
import { textDigest } from "./text-digest.ts";

const MGET_CHUNK = 1_000;
/** Largest registration text fetched; a longer one is refused by its `STRLEN`, unread. */
export const MAX_REGISTRATION_BYTES = 64 * 1024;
/**
 * Most index entries read per registry read, newest heartbeat first: junk written to the index
 * costs at most this many names, whatever its size.
 */
export const MAX_REGISTRY_ENTRIES = 50_000;
/**
 * Most changed registrations of hosts not (yet) accepted that one read fetches and verifies;
 * the rest wait for the next read. Accepted hosts are always read, so an agent login writing
 * junk makes a request cost O(accepted hosts) plus this constant.
 */
export const MAX_INSPECT_PER_READ = 1_000;
/**
 * Longest index member taken for a hostname (the protocol's limit on names): a longer one is
 * junk an agent login wrote, removed unread, so it never reaches a lookup or a log line.
 */
export const MAX_INDEX_NAME_LENGTH = 255;
/** Sorts hostnames as `localeCompare` does, without building a collator per comparison. */
const byHostname = new Intl.Collator().compare;

/** A registration whose self-signature verified, remembered by the digest of its text. */
interface Verified {
  readonly digest: string;
  readonly raw: string;
  readonly reg: RegistrationMessage;
  readonly candidate: Candidate;
  /** The node as last listed, reused while its enrollment decision is the same. */
  listed?: { readonly decision: EnrollmentDecision; readonly node: NodeInfo };
}

/**
 * What the last look at one index entry found, valid while its score (the heartbeat time the
 * agent wrote) is unchanged: a verified registration, or nothing usable (refused, expired).
 */
interface Inspection {
  readonly score: number;
  readonly verified?: Verified;
}

function sameDecision(a: EnrollmentDecision, b: EnrollmentDecision): boolean {
  return (
    a.state === b.state && a.via === b.via && a.keyChanged === b.keyChanged && a.detail === b.detail
  );
}

function isWrongType(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith("WRONGTYPE");
}

/**
 * Reads and verifies the registry, remembering what it verified, and lists every accepted host
 * whether or not its live registration is there: a host the bus lost, or another key displaced,
 * is listed from its last verified registration (last-known.ts) as `absent`.
 */
export class RegistryReader {
  private readonly inspected = new Map<string, Inspection>();
  private readonly pendingLogged = new Set<string>();
  private accepted = new Map<string, string>();
  private states = new Map<string, Rejection>();
  private unknownFacts = new Set<string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly names: FleetNames,
    private readonly enrollment: Enrollment,
    private readonly verifier: PayloadVerifier,
    private readonly rejections: RejectionRecorder,
    private readonly freshness: FreshnessOptions,
    private readonly logger: Logger,
    private readonly lastKnown: LastKnown,
    private readonly registrar?: RegistrarView,
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

  /** True when an accepted host's facts are unknown (never verified since it was accepted). */
  factsUnknown(hostname: string): boolean {
    return this.unknownFacts.has(hostname);
  }

  /**
   * Takes a registration the registrar just checked and stored (registrar.ts): the next read
   * finds it under its index score and spends no fetch and no second verification on it.
   */
  learn(raw: string, reg: RegistrationMessage, candidate: Candidate): void {
    const digest = textDigest(raw);
    const cached = this.inspected.get(candidate.hostname)?.verified;
    const verified: Verified = cached?.digest === digest ? cached : { digest, raw, reg, candidate };
    this.inspected.set(candidate.hostname, { score: reg.sent_at, verified });
  }

  /** Forgets `hostname`'s live registration (its agent announced a clean stop). */
  dropLive(hostname: string): void {
    this.inspected.delete(hostname);
  }

  /** Forgets what was remembered of `hostname` (retired). */
  async forget(hostname: string): Promise<void> {
    this.inspected.delete(hostname);
    this.accepted.delete(hostname);
    await this.lastKnown.forget(hostname);
  }

  /**
   * Every live, fresh, self-signed registration with its enrollment state, and every accepted
   * host without one (`absent`), by hostname.
   */
  async read(now: number): Promise<NodeInfo[]> {
    await this.registrar?.start();
    await Promise.all([this.enrollment.refresh(now), this.lastKnown.refresh(now)]);
    const index = await this.index();
    const acceptedNames = new Set(this.enrollment.acceptedHostnames());
    for (const h of this.lastKnown.hostnames()) acceptedNames.add(h);
    const current: Verified[] = [];
    const toInspect: [string, number][] = [];
    const listedNames = new Set<string>();
    let budget = MAX_INSPECT_PER_READ;
    for (const [host, score] of index) {
      listedNames.add(host);
      const seen = this.inspected.get(host);
      if (seen?.score === score) {
        if (seen.verified) current.push(seen.verified);
        continue;
      }
      if (!acceptedNames.has(host)) {
        if (budget === 0) continue;
        budget--;
      }
      toInspect.push([host, score]);
    }
    for (const host of this.inspected.keys())
      if (!listedNames.has(host)) this.inspected.delete(host);
    const stale: string[] = [];
    for (let i = 0; i < toInspect.length; i += MGET_CHUNK) {
      const chunk = toInspect.slice(i, i + MGET_CHUNK);
      current.push(...(await this.inspect(chunk, now, stale)));
    }
    const listed = await Promise.all(current.map((entry) => this.list(entry, now, stale)));
    if (stale.length > 0) await this.redis.zrem(this.names.nodeIndex, ...stale);
    const nodes: NodeInfo[] = [];
    const accepted = new Map<string, string>();
    const states = new Map<string, Rejection>();
    const remember: Promise<void>[] = [];
    for (const [j, n] of listed.entries()) {
      if (!n) continue;
      nodes.push(n);
      const entry = current[j];
      if (n.state === "accepted") {
        accepted.set(n.hostname, n.publicKey);
        if (entry)
          remember.push(
            this.lastKnown.remember(n.hostname, entry.raw, entry.reg, n.publicKey, n.fingerprint),
          );
      } else
        states.set(n.hostname, {
          reason: n.state === "rejected" ? "rejected_key" : "pending_key",
          detail: `${n.hostname} key ${n.fingerprint} is ${n.state}${n.detail === undefined ? "" : ` (${n.detail})`}`,
        });
    }
    await Promise.all(remember);
    for (const claim of this.registrar?.pendingClaims() ?? []) {
      if (freshnessRefusal(claim.reg, now, this.freshness)) continue;
      const decision = this.enrollment.decide(claim.candidate, now);
      if (decision.state === "accepted") continue;
      nodes.push(registrationNode(claim.reg, claim.candidate, decision));
    }
    const unknown = new Set<string>();
    for (const host of acceptedNames) {
      if (accepted.has(host)) continue;
      const node = this.absent(host, now);
      if (!node) continue;
      nodes.push(node);
      accepted.set(host, node.publicKey);
      if (node.lastSeen === "") unknown.add(host);
    }
    this.accepted = accepted;
    this.states = states;
    this.unknownFacts = unknown;
    return nodes.sort((a, b) => byHostname(a.hostname, b.hostname));
  }

  /**
   * The index, newest heartbeat first, capped at {@link MAX_REGISTRY_ENTRIES}. An index
   * overwritten with another type is counted, removed (agents add themselves back at their next
   * heartbeat) and read as empty, so it never fails a request.
   */
  private async index(): Promise<[string, number][]> {
    let flat: string[];
    try {
      flat = await this.redis.zrevrange(
        this.names.nodeIndex,
        0,
        MAX_REGISTRY_ENTRIES - 1,
        "WITHSCORES",
      );
    } catch (err) {
      if (!isWrongType(err)) throw err;
      this.rejections.record(
        {
          reason: "malformed_registry",
          detail: `${this.names.nodeIndex} is not a sorted set; removed (agents re-add themselves)`,
        },
        { redisKey: this.names.nodeIndex },
      );
      await this.redis.del(this.names.nodeIndex);
      return [];
    }
    const entries: [string, number][] = [];
    const junk: string[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const host = flat[i] ?? "";
      if (host.length > MAX_INDEX_NAME_LENGTH) junk.push(host);
      else entries.push([host, Number(flat[i + 1])]);
    }
    if (junk.length > 0) {
      this.rejections.record(
        {
          reason: "malformed_registry",
          detail: `${junk.length} ${this.names.nodeIndex} members longer than ${MAX_INDEX_NAME_LENGTH} characters removed`,
        },
        { redisKey: this.names.nodeIndex },
      );
      await this.redis.zrem(this.names.nodeIndex, ...junk);
    }
    return entries;
  }

  /**
   * Fetches and verifies the changed entries of one chunk: sizes first (`STRLEN`), so an
   * oversized or wrongly typed entry is refused without being read.
   */
  private async inspect(
    chunk: readonly [string, number][],
    now: number,
    stale: string[],
  ): Promise<Verified[]> {
    const sizes = this.redis.pipeline();
    for (const [host] of chunk) sizes.strlen(this.names.node(host));
    const lengths = (await sizes.exec()) ?? [];
    const wanted: [string, number][] = [];
    for (const [j, [host, score]] of chunk.entries()) {
      const [err, size] = lengths[j] ?? [null, 0];
      if (err !== null) {
        this.refuse(host, score, {
          reason: "malformed_registry",
          detail: `${this.names.node(host)} is not a string`,
        });
      } else if (size === 0) {
        stale.push(host);
        this.inspected.delete(host);
      } else if (typeof size !== "number" || size > MAX_REGISTRATION_BYTES) {
        this.refuse(host, score, {
          reason: "oversize",
          detail: `registration of ${host} is ${String(size)} bytes, more than ${MAX_REGISTRATION_BYTES}`,
        });
      } else wanted.push([host, score]);
    }
    if (wanted.length === 0) return [];
    const values = await this.redis.mget(wanted.map(([h]) => this.names.node(h)));
    const entries = await Promise.all(
      wanted.map(async ([host, score], j) => {
        const raw = values[j];
        if (raw === null || raw === undefined) {
          stale.push(host);
          this.inspected.delete(host);
          return undefined;
        }
        const digest = textDigest(raw);
        const cached = this.inspected.get(host)?.verified;
        const entry =
          cached?.digest === digest ? cached : await this.verify(host, raw, digest, score, now);
        if (entry) this.inspected.set(host, { score, verified: entry });
        return entry;
      }),
    );
    return entries.filter((e): e is Verified => e !== undefined);
  }

  /**
   * An accepted host with no fresh accepted registration: listed from its last verified one,
   * or with no facts when it has none (a key accepted but never seen since).
   */
  private absent(hostname: string, now: number): NodeInfo | undefined {
    const stored = this.enrollment.storedKey(hostname);
    const known = this.lastKnown.get(hostname);
    let keyLine = stored;
    let via: EnrollmentVia | undefined = this.enrollment.acceptedRecord(hostname)?.via;
    if (keyLine === undefined) {
      if (!known) return undefined;
      const decision = this.enrollment.decide(
        {
          hostname,
          keyLine: known.keyLine,
          fingerprint: known.fingerprint,
          certificate: known.reg.certificate,
        },
        now,
      );
      if (decision.state !== "accepted") return undefined;
      keyLine = known.keyLine;
      via = decision.via;
    }
    const facts = known?.keyLine === keyLine ? known : undefined;
    const lastSeen = facts === undefined ? "" : new Date(facts.reg.sent_at).toISOString();
    return {
      hostname,
      facts: facts?.reg.facts ?? { hostname },
      fingerprint: facts?.fingerprint ?? fingerprintOf(keyLine),
      publicKey: keyLine,
      version: facts?.reg.version ?? "",
      lastSeen,
      state: "accepted",
      ...(via === undefined ? {} : { via }),
      absent: true,
      detail:
        lastSeen === "" ? "accepted, no registration seen since" : `no heartbeat since ${lastSeen}`,
    };
  }

  /** A claim on an accepted hostname by another key, as `nodes pending` lists it. */
  /** An entry refused at `score`: counted once, not fetched again until its agent writes anew. */
  private refuse(host: string, score: number, rejection: Rejection): void {
    this.inspected.set(host, { score });
    this.rejections.record(rejection, { hostname: host, message: "registration" });
  }

  /**
   * The node for a verified registration, if it is fresh; asynchronous only when it takes a
   * trust-on-first-use acceptance.
   */
  private list(
    entry: Verified,
    now: number,
    expired: string[],
  ): NodeInfo | undefined | Promise<NodeInfo | undefined> {
    const { reg, candidate } = entry;
    const fresh = freshnessRefusal(reg, now, this.freshness);
    if (fresh) {
      // Counted once, and out of the index: its agent adds it back with its next heartbeat.
      this.inspected.delete(candidate.hostname);
      this.rejections.record(fresh, { hostname: candidate.hostname, message: "registration" });
      expired.push(candidate.hostname);
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
    if (decision.state !== "accepted") this.logPending(candidate, decision);
    if (entry.listed && sameDecision(entry.listed.decision, decision)) return entry.listed.node;
    const node = registrationNode(reg, candidate, decision);
    entry.listed = { decision, node };
    return node;
  }

  private logPending(c: Candidate, decision: EnrollmentDecision): void {
    const { state, detail } = decision;
    const id = `${c.hostname} ${c.fingerprint} ${state}`;
    if (this.pendingLogged.has(id)) return;
    if (this.pendingLogged.size >= MGET_CHUNK * 100) this.pendingLogged.clear();
    this.pendingLogged.add(id);
    // Another key under an accepted hostname: an impostor, or a host re-keyed without an
    // operator. Counted once; the accepted host keeps its place in every answer.
    if (decision.keyChanged === true)
      this.rejections.record(
        { reason: "key_mismatch", detail: detail ?? `${c.hostname} presents another key` },
        { hostname: c.hostname, fingerprint: c.fingerprint },
      );
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
    score: number,
    now: number,
  ): Promise<Verified | undefined> {
    const refuse = (r: Rejection) => {
      this.refuse(host, score, r);
      return undefined;
    };
    const opened = openRegistration(raw);
    if (!opened.ok) return refuse(opened.rejection);
    const { reg, candidate } = opened.opened;
    if (reg.hostname !== host)
      return refuse({
        reason: "hostname_mismatch",
        detail: `registration under ${host} names ${reg.hostname}`,
      });
    const bad = await verifyRegistration(opened.opened, this.verifier, now);
    if (bad) return refuse(bad);
    return { digest, raw, reg, candidate };
  }
}
