/**
 * The agent's entry in the node registry: a registration payload signed with the host key in
 * the registration namespace, stored at `{prefix}:node:<hostname>` with a TTL, and indexed in a
 * sorted set by heartbeat time. Refreshed every heartbeat; removed on a clean stop.
 */
import type { RedisClient } from "../../../lib/redis/client.ts";
import type { PayloadSigner } from "../protocol/auth.ts";
import type { FleetNames } from "../protocol/channels.ts";
import { sealEnvelope } from "../protocol/envelope.ts";
import {
  PROTOCOL_VERSION,
  SUPPORTED_PROTOCOLS,
  type RegistrationMessage,
} from "../protocol/messages.ts";

/** What a registration says. */
export interface RegistrationData {
  readonly hostname: string;
  readonly facts: Readonly<Record<string, string>>;
  readonly publicKey: string;
  readonly version: string;
  readonly ttlMs: number;
  /** OpenSSH host certificate of `publicKey`, when the host has one. */
  readonly certificate?: string | undefined;
}

/** Writes (or refreshes) the registration. */
export async function register(
  redis: RedisClient,
  names: FleetNames,
  signer: PayloadSigner,
  data: RegistrationData,
  now: number,
): Promise<void> {
  const payload: RegistrationMessage = {
    protocol: PROTOCOL_VERSION,
    type: "registration",
    hostname: data.hostname,
    facts: { ...data.facts },
    public_key: data.publicKey,
    version: data.version,
    sent_at: now,
    ttl_ms: data.ttlMs,
    ...(data.certificate === undefined ? {} : { certificate: data.certificate }),
    protocols: [...SUPPORTED_PROTOCOLS],
  };
  await redis
    .multi()
    .set(names.node(data.hostname), sealEnvelope(payload, signer), "PX", data.ttlMs)
    .zadd(names.nodeIndex, now, data.hostname)
    .exec();
}

/** Removes the registration. */
export async function unregister(
  redis: RedisClient,
  names: FleetNames,
  hostname: string,
): Promise<void> {
  await redis.multi().del(names.node(hostname)).zrem(names.nodeIndex, hostname).exec();
}
