/**
 * Reads the node registry: every hostname in the index whose registration still exists, is
 * validly signed by the key it names and whose key matches the pin for that hostname.
 * Verified registrations are cached by their exact text, so unchanged entries cost no
 * cryptography on the next read; changed ones (every heartbeat changes `sent_at`) are checked
 * in parallel on libuv's thread pool when the verifier can; expired entries are pruned.
 */
import type { RedisClient } from "../../../lib/redis/client.ts";
import type { PayloadVerifier } from "../protocol/auth.ts";
import type { FleetNames } from "../protocol/channels.ts";
import { openEnvelope } from "../protocol/envelope.ts";
import { parsePublicKeyLine } from "../protocol/keys.ts";
import { registrationSchema } from "../protocol/messages.ts";
import type { Rejection, RejectionRecorder } from "../protocol/rejections.ts";
import type { NodeInfo } from "../types.ts";
import type { PinStore } from "./pinning.ts";

const MGET_CHUNK = 1_000;

/** Reads and verifies the registry, remembering what it verified. */
export class RegistryReader {
  private readonly verified = new Map<string, { raw: string; node: NodeInfo }>();

  constructor(
    private readonly redis: RedisClient,
    private readonly names: FleetNames,
    private readonly pins: PinStore,
    private readonly verifier: PayloadVerifier,
    private readonly rejections: RejectionRecorder,
  ) {}

  /** All live, verified, pinned nodes sorted by hostname. */
  async read(now: number): Promise<NodeInfo[]> {
    await this.pins.refresh();
    const hosts = await this.redis.zrange(this.names.nodeIndex, 0, -1);
    const nodes: NodeInfo[] = [];
    const stale: string[] = [];
    for (let i = 0; i < hosts.length; i += MGET_CHUNK) {
      const chunk = hosts.slice(i, i + MGET_CHUNK);
      const values = await this.redis.mget(chunk.map((h) => this.names.node(h)));
      const checks: Promise<NodeInfo | undefined>[] = [];
      for (const [j, host] of chunk.entries()) {
        const raw = values[j];
        if (raw === null || raw === undefined) {
          stale.push(host);
          this.verified.delete(host);
          continue;
        }
        checks.push(this.check(host, raw, now));
      }
      for (const node of await Promise.all(checks)) if (node) nodes.push(node);
    }
    if (stale.length > 0) await this.redis.zrem(this.names.nodeIndex, ...stale);
    return nodes.sort((a, b) => a.hostname.localeCompare(b.hostname));
  }

  private async check(host: string, raw: string, now: number): Promise<NodeInfo | undefined> {
    const cached = this.verified.get(host);
    if (cached && cached.raw === raw && this.pins.get(host) === cached.node.publicKey)
      return cached.node;
    const refuse = (r: Rejection) => {
      this.verified.delete(host);
      this.rejections.record(r, { hostname: host, message: "registration" });
      return undefined;
    };
    const opened = openEnvelope(raw, registrationSchema);
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
    const pin = await this.pins.pin(host, keyLine);
    if (pin !== keyLine) {
      return refuse({
        reason: "unpinned_key",
        detail: `${host} registered key ${fingerprint}, which is not its pinned key`,
      });
    }
    const node: NodeInfo = {
      hostname: host,
      facts: reg.facts,
      fingerprint,
      publicKey: keyLine,
      version: reg.version,
      lastSeen: new Date(reg.sent_at).toISOString(),
    };
    this.verified.set(host, { raw, node });
    return node;
  }
}
