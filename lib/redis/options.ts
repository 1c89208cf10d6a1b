/**
 * Configuration of the Redis topology: one server (`redis.url`), a Sentinel-managed primary
 * (`redis.sentinel`) or a Redis Cluster (`redis.cluster`). Passwords are read from environment
 * variables named here, never written in the file, and never logged.
 */
import { z } from "zod";

const MAX_PORT = 65_535;
const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;
/** Default leader lease time to live: a dead holder is replaced within about this long. */
export const DEFAULT_LEASE_TTL_MS = 10_000;
/** Default interval between lease renewals (and acquisition attempts). */
export const DEFAULT_LEASE_RENEW_MS = 3_000;

/** `{host, port}` of a Sentinel or a cluster node. */
export const hostPortSchema = z
  .object({
    host: z.string().min(1).max(255),
    port: z.number().int().min(1).max(MAX_PORT),
  })
  .strict();
/** One Sentinel or cluster node. */
export type HostPort = z.infer<typeof hostPortSchema>;

const envName = z.string().regex(ENV_NAME, "an environment variable name such as REDIS_PASSWORD");

/** `redis.sentinel`: where the Sentinels are and which primary they watch. */
export const sentinelSchema = z
  .object({
    /** The primary's name in the Sentinels' configuration (`sentinel monitor <name> …`). */
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "a Sentinel master name such as mymaster"),
    nodes: z.array(hostPortSchema).min(1),
    /** Environment variable holding the Sentinels' own password (`requirepass` on them). */
    passwordEnv: envName.optional(),
  })
  .strict();

/** `redis.cluster`: some nodes of the cluster (the rest are discovered). */
export const clusterSchema = z.object({ nodes: z.array(hostPortSchema).min(1) }).strict();

/** `redis.lease`: the lease that makes exactly one bot replica hold the IRC connection. */
export const leaseSchema = z
  .object({
    ttlMs: z.number().int().min(1_000).max(600_000).default(DEFAULT_LEASE_TTL_MS),
    renewMs: z.number().int().min(100).max(300_000).default(DEFAULT_LEASE_RENEW_MS),
  })
  .strict()
  .default({})
  .refine((l) => l.renewMs * 2 < l.ttlMs, "renewMs less than half of ttlMs");
/** Parsed lease settings. */
export type LeaseSettings = z.infer<typeof leaseSchema>;

/** Fields added to the `redis` section of the configuration (see config/schema.ts). */
export const redisTopologyFields = {
  mode: z.enum(["single", "sentinel", "cluster"]).default("single"),
  sentinel: sentinelSchema.optional(),
  cluster: clusterSchema.optional(),
  /** ACL user for sentinel and cluster modes (single mode takes it from the URL). */
  username: z.string().min(1).max(255).optional(),
  /** Environment variable holding the data nodes' password (sentinel and cluster modes). */
  passwordEnv: envName.optional(),
  lease: leaseSchema,
};

/** The topology part of the parsed `redis` section. */
export interface RedisTopologyConfig {
  readonly mode: "single" | "sentinel" | "cluster";
  readonly sentinel?: z.infer<typeof sentinelSchema> | undefined;
  readonly cluster?: z.infer<typeof clusterSchema> | undefined;
  readonly username?: string | undefined;
  readonly passwordEnv?: string | undefined;
}

/** Cross-field check for the `redis` section: the chosen mode has its settings. */
export function checkTopology(
  r: RedisTopologyConfig & { readonly url?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  const need = (path: string, message: string) =>
    ctx.addIssue({ code: "custom", path: [path], message });
  if (r.mode === "sentinel" && r.sentinel === undefined)
    need("sentinel", "sentinel settings ({name, nodes}) when mode is sentinel");
  if (r.mode === "cluster" && r.cluster === undefined)
    need("cluster", "cluster settings ({nodes}) when mode is cluster");
  if (r.mode !== "single" && r.url !== undefined)
    need("url", `no url when mode is ${r.mode} (use redis.${r.mode}.nodes)`);
  if (r.mode !== "sentinel" && r.sentinel !== undefined)
    need("mode", "mode: sentinel when redis.sentinel is set");
  if (r.mode !== "cluster" && r.cluster !== undefined)
    need("mode", "mode: cluster when redis.cluster is set");
}
