/**
 * The registrar: agents announce their signed registrations on the `prefix:registrations`
 * channel, and controllers — the only ones whose Redis login may write the registry — check
 * each one and store it at `{prefix}:node:<hostname>` (with its TTL) and in the index. So the
 * registry says what each host itself signed, and no agent login can delete, overwrite or fill
 * another host's entry (app/redis-acl.ts gives agents no registry key at all).
 *
 * For each announcement, before anything is stored:
 * - its size is checked ({@link MAX_REGISTRATION_BYTES}) before it is parsed;
 * - the signature must verify with the key the registration names, and it must be fresh;
 * - under an accepted hostname, only the accepted key may write: another key is counted as
 *   `key_mismatch` and kept apart as a claim for `nodes pending` (bounded, in memory), never
 *   stored over the accepted host;
 * - at most {@link MAX_PENDING_HOSTS} hosts waiting for an operator are stored at once;
 * - announcements for hostnames not accepted share a token bucket ({@link UNACCEPTED_BURST}
 *   at once, refilled at {@link UNACCEPTED_PER_SECOND}), and those over it are dropped and
 *   counted before any signature is checked, so a flood of junk costs a parse each, not a
 *   verification, while a census of a large new fleet still goes through;
 * - announcements naming an accepted host with its accepted key (which anyone can copy) get
 *   {@link ACCEPTED_PER_HOST_BURST} verifications per host, refilled one a second: forgeries
 *   cost a bounded amount, and at worst delay that host's live status (a request it answers
 *   still counts it).
 *
 * A controller that starts (or a CLI run when no registrar is live) asks for a census: a signed
 * message on the request channel to which every agent answers by announcing itself at once.
 * Registrars mark themselves live at `{prefix}:registrar` so a CLI run can tell.
 */
import { randomUUID } from "node:crypto";
import { errorMessage } from "../../../lib/errors.ts";
import type { Logger } from "../../../lib/log.ts";
import type { PubSubBus } from "../../../lib/redis/bus.ts";
import type { RedisClient } from "../../../lib/redis/client.ts";
import type { PayloadSigner, PayloadVerifier } from "../protocol/auth.ts";
import type { FleetNames } from "../protocol/channels.ts";
import { sealEnvelope } from "../protocol/envelope.ts";
import {
  PROTOCOL_VERSION,
  LEAVING_TTL_MS,
  type CensusMessage,
  type RegistrationMessage,
} from "../protocol/messages.ts";
import type { RejectionRecorder } from "../protocol/rejections.ts";
import type { Candidate } from "./enrollment.ts";
import {
  freshnessRefusal,
  openRegistration,
  verifyRegistration,
  type FreshnessOptions,
  type OpenedRegistration,
} from "./registration-check.ts";
import { MAX_REGISTRATION_BYTES } from "./registry-reader.ts";

/** Announcements of hosts not accepted verified per second, sustained (the rest are dropped). */
export const UNACCEPTED_PER_SECOND = 1_000;
/**
 * Announcements one accepted host may have verified at once (refilled one a second): a
 * heartbeat, a census and a reconnect fit; a flood of forgeries naming it does not.
 */
export const ACCEPTED_PER_HOST_BURST = 5;
/** …and at most this many at once (a census of a new fleet, a burst of new hosts). */
export const UNACCEPTED_BURST = 20_000;
/**
 * Most hosts waiting for an operator's acceptance kept in the registry at once: more are
 * dropped (counted) until some are accepted, rejected or lapse, so an agent login filling the
 * registry with junk hostnames costs every read a bounded amount.
 */
export const MAX_PENDING_HOSTS = 2_000;
/** Most claims on accepted hostnames by other keys kept for `nodes pending`. */
export const MAX_CLAIMS = 1_000;
/** How long a registrar's mark at `{prefix}:registrar` lives without being renewed. */
export const REGISTRAR_MARK_TTL_MS = 15_000;
/** How often a registrar renews its mark. */
const REGISTRAR_MARK_EVERY_MS = 5_000;
/** A census is over once no announcement arrived for this long and every one is stored… */
export const CENSUS_QUIET_MS = 150;
/** How long a census waits for its first announcement (an empty fleet waits this long). */
export const CENSUS_FIRST_MS = 1_000;
/** Once this many announcements arrived in a census… */
const CENSUS_LARGE = 500;
/** …the quiet that ends it is this long instead. */
export const CENSUS_QUIET_LARGE_MS = 1_000;
/** …or after this long, whichever comes first. */
export const CENSUS_MAX_MS = 10_000;
/** After a reconnect, the second census follows the first by this long. */
const CENSUS_AGAIN_AFTER_MS = 3_000;
/** Validity of a census message. */
const CENSUS_TTL_MS = 30_000;
const MS_PER_SECOND = 1_000;

/** Everything a registrar needs. */
export interface RegistrarDeps {
  readonly redis: RedisClient;
  readonly bus: PubSubBus;
  readonly names: FleetNames;
  /** The key accepted for a hostname (a stored record, known_hosts, a certificate), if any. */
  readonly acceptedKey: (hostname: string) => string | undefined;
  readonly verifier: PayloadVerifier;
  /** Signs census messages (the controller's request signer). */
  readonly censusSigner: PayloadSigner;
  readonly principal: string;
  readonly freshness: FreshnessOptions;
  readonly requestTtlMs: number;
  readonly rejections: RejectionRecorder;
  readonly logger: Logger;
  readonly now: () => number;
  /**
   * True when a key no record accepts yet will be accepted without an operator (known_hosts,
   * a host certificate, trust on first use): such hosts are not held to the pending limit.
   */
  readonly mayBeAccepted: (candidate: Candidate) => boolean;
  /** Called when a host announced a clean stop and its live entry was removed. */
  readonly left?: (hostname: string) => void;
  /** Called with every registration stored (the registry reader's cache takes it). */
  readonly stored?: (raw: string, reg: RegistrationMessage, candidate: Candidate) => void;
  /**
   * When the first start asks every agent to announce itself: `always` (a long-running
   * controller such as the bot), or `unless-live` (a CLI run: only when no registrar marked
   * itself live, since one that is keeps the registry current).
   */
  readonly census: CensusPolicy;
}

/** See {@link RegistrarDeps.census}. */
export type CensusPolicy = "always" | "unless-live";

/** A registration under an accepted hostname signed by another key. */
export interface Claim {
  readonly reg: RegistrationMessage;
  readonly candidate: Candidate;
}

/** Stores one checked registration in the registry (the controller's write, nobody else's). */
export async function storeRegistration(
  redis: RedisClient,
  names: FleetNames,
  raw: string,
  reg: RegistrationMessage,
): Promise<void> {
  await redis
    .multi()
    .set(names.node(reg.hostname), raw, "PX", reg.ttl_ms)
    .zadd(names.nodeIndex, reg.sent_at, reg.hostname)
    .exec();
}

/** A token bucket: `tokens` left, refilled since `at`. */
interface Bucket {
  tokens: number;
  at: number;
}

/** Takes one token from `b` at `now`, refilled at `perSecond` up to `capacity`; false when empty. */
function take(b: Bucket, now: number, capacity: number, perSecond: number): boolean {
  b.tokens = Math.min(capacity, b.tokens + (Math.max(0, now - b.at) * perSecond) / MS_PER_SECOND);
  b.at = now;
  if (b.tokens < 1) return false;
  b.tokens--;
  return true;
}

/** Ingests announcements while started. */
export class Registrar {
  private readonly claims = new Map<string, Claim>();
  private readonly newest = new Map<string, number>();
  private readonly pending = new Map<string, number>();
  private readonly perHost = new Map<string, Bucket>();
  private readonly unaccepted: Bucket = { tokens: UNACCEPTED_BURST, at: 0 };
  /** Announcements being checked or stored (a census waits for them). */
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private markTimer: NodeJS.Timeout | undefined;
  private started: Promise<void> | undefined;
  private heard: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private offRestored: (() => void) | undefined;
  /** This registrar's mark value, so a clean stop removes its own mark only. */
  private readonly markId = randomUUID();
  private readonly handler = (raw: string): void => this.onAnnouncement(raw);

  constructor(private readonly deps: RegistrarDeps) {}

  /** Live registrations of hosts not accepted, pending an operator, with their expiry. */
  private pendingCount(now: number): number {
    if (this.pending.size >= MAX_PENDING_HOSTS)
      for (const [host, until] of this.pending) if (until < now) this.pending.delete(host);
    return this.pending.size;
  }

  /** Claims on accepted hostnames by other keys, for `nodes pending`. */
  pendingClaims(): IterableIterator<Claim> {
    return this.claims.values();
  }

  /** Subscribes and marks this registrar live; the first call asks for a census. */
  start(): Promise<void> {
    // A start that failed (Redis not reachable yet) is tried again by the next caller.
    this.started ??= this.begin().catch((err: unknown) => {
      this.started = undefined;
      throw err;
    });
    return this.started;
  }

  /** Stops ingesting. */
  async stop(): Promise<void> {
    clearInterval(this.markTimer);
    this.offRestored?.();
    if (this.started === undefined) return;
    const { bus, redis, names } = this.deps;
    await bus.unsubscribe(names.registrations, this.handler).catch(() => undefined);
    if ((await redis.get(names.registrar).catch(() => null)) === this.markId)
      await redis.del(names.registrar).catch(() => undefined);
  }

  private async begin(): Promise<void> {
    const { bus, names } = this.deps;
    await bus.subscribe(names.registrations, this.handler);
    // Announcements made while the subscription was down are lost: ask again once it is back.
    // Agents reconnect at their own pace: ask now and once more a little later.
    this.offRestored = bus.onRestored(() => {
      const ask = () =>
        this.census().catch((err: unknown) =>
          this.deps.logger.warn("census after reconnect failed", { error: errorMessage(err) }),
        );
      void ask();
      setTimeout(() => void ask(), CENSUS_AGAIN_AFTER_MS).unref();
    });
    const othersLive =
      this.deps.census === "unless-live" && (await this.deps.redis.exists(names.registrar)) === 1;
    await this.mark();
    this.markTimer = setInterval(
      () => void this.mark().catch(() => undefined),
      REGISTRAR_MARK_EVERY_MS,
    );
    this.markTimer.unref();
    // With another registrar live the registry is current: no need to ask every agent again.
    if (!othersLive) await this.census();
  }

  private async mark(): Promise<void> {
    await this.deps.redis.set(this.deps.names.registrar, this.markId, "PX", REGISTRAR_MARK_TTL_MS);
  }

  /**
   * Asks every agent to announce itself now, and returns once announcements stop arriving
   * ({@link CENSUS_QUIET_MS}; {@link CENSUS_QUIET_LARGE_MS} once a large fleet answers) and
   * are stored, or after {@link CENSUS_MAX_MS}.
   */
  census(): Promise<void> {
    this.running ??= this.ask().finally(() => (this.running = undefined));
    return this.running;
  }

  private async ask(): Promise<void> {
    const { bus, names, now } = this.deps;
    const issued = now();
    const message: CensusMessage = {
      protocol: PROTOCOL_VERSION,
      type: "census",
      id: randomUUID(),
      issued_at: issued,
      expires_at: issued + Math.min(CENSUS_TTL_MS, this.deps.requestTtlMs),
      sender: this.deps.principal,
    };
    const started = performance.now();
    await new Promise<void>((resolve) => {
      let quiet: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(quiet);
        clearTimeout(cap);
        this.heard = undefined;
        this.drained = undefined;
        resolve();
      };
      const cap = setTimeout(done, CENSUS_MAX_MS);
      // Quiet, and everything heard is stored: then the registry holds the census.
      const settle = () => {
        if (this.inFlight === 0) return done();
        this.drained = () => {
          this.drained = undefined;
          done();
        };
      };
      let heard = 0;
      this.heard = () => {
        clearTimeout(quiet);
        // A large fleet answers in bursts (each agent host signing in turn): wait longer.
        const quietMs = ++heard >= CENSUS_LARGE ? CENSUS_QUIET_LARGE_MS : CENSUS_QUIET_MS;
        quiet = setTimeout(settle, quietMs);
      };
      // The first answers may take a moment (agents busy, or many of them): wait for them.
      quiet = setTimeout(settle, CENSUS_FIRST_MS);
      bus
        .publish(names.requests, sealEnvelope(message, this.deps.censusSigner))
        .catch(() => done());
    });
    this.deps.logger.debug("census done", { ms: Math.round(performance.now() - started) });
  }

  /** One of `hostname`'s verifications ({@link ACCEPTED_PER_HOST_BURST}, refilled 1 a second). */
  private spendFor(hostname: string): boolean {
    const now = this.deps.now();
    const bucket = this.perHost.get(hostname) ?? { tokens: ACCEPTED_PER_HOST_BURST, at: now };
    if (this.perHost.size >= MAX_TRACKED) this.perHost.clear();
    this.perHost.set(hostname, bucket);
    return take(bucket, now, ACCEPTED_PER_HOST_BURST, 1);
  }

  private onAnnouncement(raw: string): void {
    const { rejections } = this.deps;
    this.heard?.();
    if (raw.length > MAX_REGISTRATION_BYTES)
      return rejections.record({
        reason: "oversize",
        detail: `registration of ${raw.length} characters, more than ${MAX_REGISTRATION_BYTES}`,
      });
    const parsed = openRegistration(raw);
    if (!parsed.ok) return rejections.record(parsed.rejection, { message: "registration" });
    const opened = parsed.opened;
    const claimed = opened.candidate;
    const accepted = this.deps.acceptedKey(claimed.hostname);
    if (accepted === claimed.keyLine) {
      // Anyone can copy an accepted host's public key into a forged announcement: each host
      // gets a few verifications a second, so forgeries cost a bounded amount per host.
      if (!this.spendFor(claimed.hostname))
        return rejections.record(
          {
            reason: "backlog_full",
            detail: `more than ${ACCEPTED_PER_HOST_BURST} announcements of one accepted host at once`,
          },
          { hostname: claimed.hostname },
        );
    } else {
      if (!take(this.unaccepted, this.deps.now(), UNACCEPTED_BURST, UNACCEPTED_PER_SECOND))
        return rejections.record(
          {
            reason: "backlog_full",
            detail: `announcements of hosts not accepted beyond ${UNACCEPTED_PER_SECOND} a second (burst ${UNACCEPTED_BURST})`,
          },
          { hostname: claimed.hostname },
        );
    }
    this.inFlight++;
    this.ingest(raw, opened, accepted)
      .catch((err: unknown) =>
        this.deps.logger.warn("storing a registration failed", {
          hostname: claimed.hostname,
          error: errorMessage(err),
        }),
      )
      .finally(() => {
        this.inFlight--;
        if (this.inFlight === 0) this.drained?.();
      });
  }

  private async ingest(
    raw: string,
    opened: OpenedRegistration,
    acceptedKey: string | undefined,
  ): Promise<void> {
    const { rejections, verifier, names, redis } = this.deps;
    const now = this.deps.now();
    const { reg, candidate } = opened;
    const stale = freshnessRefusal(reg, now, this.deps.freshness);
    if (stale) return rejections.record(stale, { hostname: reg.hostname });
    const bad = await verifyRegistration(opened, verifier, now);
    if (bad) return rejections.record(bad, { hostname: reg.hostname, message: "registration" });
    if (acceptedKey !== undefined && acceptedKey !== candidate.keyLine) {
      // Another key under an accepted hostname: it never replaces the accepted host's entry.
      const id = `${reg.hostname} ${candidate.fingerprint}`;
      if (!this.claims.has(id)) {
        if (this.claims.size >= MAX_CLAIMS) this.claims.clear();
        rejections.record(
          {
            reason: "key_mismatch",
            detail: `${reg.hostname} announced with ${candidate.fingerprint}, not its accepted key`,
          },
          { hostname: reg.hostname, fingerprint: candidate.fingerprint },
        );
      }
      this.claims.set(id, { reg, candidate });
      return;
    }
    // Only ever forward in time: an older announcement replayed does not undo a newer one.
    if ((this.newest.get(reg.hostname) ?? 0) >= reg.sent_at) return;
    if (reg.ttl_ms === LEAVING_TTL_MS) {
      // A clean stop, signed by the host's own (accepted) key: its live entry goes now.
      this.newest.set(reg.hostname, reg.sent_at);
      this.pending.delete(reg.hostname);
      await redis.multi().del(names.node(reg.hostname)).zrem(names.nodeIndex, reg.hostname).exec();
      this.deps.left?.(reg.hostname);
      return;
    }
    if (acceptedKey === undefined && !this.deps.mayBeAccepted(candidate)) {
      // Waiting for an operator: at most MAX_PENDING_HOSTS of those are in the registry.
      const until = now + Math.min(reg.ttl_ms, this.deps.freshness.maxRegistrationTtlMs);
      if (!this.pending.has(reg.hostname) && this.pendingCount(now) >= MAX_PENDING_HOSTS)
        return rejections.record(
          {
            reason: "backlog_full",
            detail: `${MAX_PENDING_HOSTS} hosts already wait for acceptance; ${reg.hostname} is not listed yet`,
          },
          { hostname: reg.hostname },
        );
      this.pending.set(reg.hostname, until);
    } else this.pending.delete(reg.hostname);
    if (this.newest.size >= MAX_TRACKED) this.newest.clear();
    this.newest.set(reg.hostname, reg.sent_at);
    await storeRegistration(redis, names, raw, reg);
    this.deps.stored?.(raw, reg, candidate);
  }
}

/** Hostnames whose newest stored announcement time is remembered. */
const MAX_TRACKED = 200_000;
