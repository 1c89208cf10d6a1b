/**
 * The last verified registration of every accepted host, kept by controllers in the
 * `{prefix}:facts` hash (hostname → the agent-signed registration text). Agents cannot write it
 * (the agent login of `commodore redis-acl` has no access), and it is believed only when the
 * registration's signature verifies with the key in it and that key is the one accepted for the
 * hostname, so it is a record of what the host itself last said, not of what the bus says now.
 *
 * It answers two questions the live registry cannot be trusted with: which facts an accepted
 * host that is silent, deleted or displaced had (so a filter still finds it, and it is reported
 * `absent` instead of vanishing), and which accepted hosts exist at all when their acceptance
 * comes from known_hosts or a certificate rather than a stored record.
 *
 * It is held in memory, written when a host's facts or key change or its entry is older than
 * {@link LAST_KNOWN_REFRESH_MS}, and reloaded every {@link LAST_KNOWN_RELOAD_MS} so replicas
 * converge and a restarted controller starts from what its predecessors knew.
 */
import type { RedisClient } from "../../../lib/redis/client.ts";
import type { PayloadVerifier } from "../protocol/auth.ts";
import type { FleetNames } from "../protocol/channels.ts";
import type { RegistrationMessage } from "../protocol/messages.ts";
import type { RejectionRecorder } from "../protocol/rejections.ts";
import { openRegistration, verifyRegistration } from "./registration-check.ts";
import { textDigest } from "./text-digest.ts";

/** A last-known entry older than this is rewritten on the next heartbeat (the `lastSeen` of `absent`). */
export const LAST_KNOWN_REFRESH_MS = 60_000;
/** How often the hash is read back, so every controller replica converges on the same view. */
export const LAST_KNOWN_RELOAD_MS = 30_000;
/** Largest last-known entry read (the same bound as a live registration). */
export const MAX_LAST_KNOWN_BYTES = 64 * 1024;

/** One host's last verified registration. */
export interface KnownRegistration {
  readonly reg: RegistrationMessage;
  /** The key line the registration was signed with (parsed form). */
  readonly keyLine: string;
  readonly fingerprint: string;
  readonly digest: string;
}

/** The controller-held memory of accepted hosts' last registrations. */
export class LastKnown {
  private readonly known = new Map<string, KnownRegistration>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly names: FleetNames,
    private readonly verifier: PayloadVerifier,
    private readonly rejections: RejectionRecorder,
  ) {}

  /** Hostnames with a last-known registration. */
  hostnames(): IterableIterator<string> {
    return this.known.keys();
  }

  /** The last verified registration of `hostname`. */
  get(hostname: string): KnownRegistration | undefined {
    return this.known.get(hostname);
  }

  /** Reads the hash back when it was last read more than {@link LAST_KNOWN_RELOAD_MS} ago. */
  async refresh(now: number): Promise<void> {
    if (now - this.loadedAt < LAST_KNOWN_RELOAD_MS) return;
    this.loading ??= this.load(now).finally(() => (this.loading = undefined));
    await this.loading;
  }

  /**
   * Remembers `raw` (already verified, signed by the accepted key `keyLine`) as `hostname`'s
   * last registration, writing it only when it says something new or the stored one is old.
   */
  async remember(
    hostname: string,
    raw: string,
    reg: RegistrationMessage,
    keyLine: string,
    fingerprint: string,
  ): Promise<void> {
    const old = this.known.get(hostname);
    if (
      old !== undefined &&
      old.keyLine === keyLine &&
      sameFacts(old.reg.facts, reg.facts) &&
      old.reg.version === reg.version &&
      reg.sent_at - old.reg.sent_at < LAST_KNOWN_REFRESH_MS
    )
      return;
    const digest = textDigest(raw);
    this.known.set(hostname, { reg, keyLine, fingerprint, digest });
    await this.redis.hset(this.names.lastKnown, hostname, raw);
  }

  /** Forgets `hostname` (retired). */
  async forget(hostname: string): Promise<void> {
    this.known.delete(hostname);
    await this.redis.hdel(this.names.lastKnown, hostname);
  }

  private async load(now: number): Promise<void> {
    const { redis, names } = this;
    const fields = await redis.hkeys(names.lastKnown);
    const next = new Map<string, KnownRegistration>();
    for (let i = 0; i < fields.length; i += LOAD_CHUNK) {
      const chunk = fields.slice(i, i + LOAD_CHUNK);
      const pipe = redis.pipeline();
      for (const f of chunk) pipe.hstrlen(names.lastKnown, f);
      const sizes = (await pipe.exec()) ?? [];
      const wanted = chunk.filter((_, j) => {
        const [err, size] = sizes[j] ?? [null, 0];
        return err === null && typeof size === "number" && size <= MAX_LAST_KNOWN_BYTES;
      });
      if (wanted.length < chunk.length)
        this.rejections.record(
          {
            reason: "oversize",
            detail: `${chunk.length - wanted.length} ${names.lastKnown} entries over ${MAX_LAST_KNOWN_BYTES} bytes ignored`,
          },
          { redisKey: names.lastKnown },
        );
      if (wanted.length === 0) continue;
      const values = await redis.hmget(names.lastKnown, ...wanted);
      const opened = await Promise.all(
        wanted.map((host, j) => this.open(host, values[j] ?? null, now)),
      );
      for (const [j, host] of wanted.entries()) {
        const entry = opened[j];
        if (entry) next.set(host, entry);
      }
    }
    this.known.clear();
    for (const [host, entry] of next) this.known.set(host, entry);
    this.loadedAt = now;
  }

  private async open(
    host: string,
    raw: string | null,
    now: number,
  ): Promise<KnownRegistration | undefined> {
    if (raw === null) return undefined;
    const digest = textDigest(raw);
    const cached = this.known.get(host);
    if (cached?.digest === digest) return cached;
    const refuse = (detail: string): undefined => {
      this.rejections.record(
        { reason: "malformed_registry", detail: `${this.names.lastKnown} ${host}: ${detail}` },
        { hostname: host },
      );
      return undefined;
    };
    const opened = openRegistration(raw);
    if (!opened.ok) return refuse(opened.rejection.detail);
    const { reg, candidate } = opened.opened;
    if (reg.hostname !== host) return refuse(`names ${reg.hostname}`);
    const bad = await verifyRegistration(opened.opened, this.verifier, now);
    if (bad) return refuse(`${bad.reason}: ${bad.detail}`);
    return { reg, keyLine: candidate.keyLine, fingerprint: candidate.fingerprint, digest };
  }
}

/** Fields read per round trip when the hash is loaded. */
const LOAD_CHUNK = 1_000;

function sameFacts(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}
