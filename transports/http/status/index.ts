/**
 * The status page as one piece the HTTP transport mounts: `createStatus(...)` returns the
 * routes to pass as an extra route of the HTTP app, `jobLink` for transports that hand out
 * links with jobs (IRC's `jobUrl`), and `close`, which ends its live job subscriptions.
 */
import { join } from "node:path";
import type { StateSealer } from "../../../lib/seal.ts";
import type { PubSubBus } from "../../../lib/redis/bus.ts";
import type { RedisClient } from "../../../lib/redis/client.ts";
import type { CommandRegistry } from "../../../bot/commands/registry.ts";
import type { PrincipalDirectory } from "../../../bot/identity/directory.ts";
import type { JobStore } from "../../../bot/jobs/types.ts";
import type { Policy } from "../../../bot/permissions/policy.ts";
import type { NodeInfo } from "../../../executors/fleet/index.ts";
import type { Logger } from "../../../lib/log.ts";
import type { MetricsRegistry } from "../../../lib/metrics.ts";
import type { HttpApp } from "../context.ts";
import { SharedRateLimiter, type RateLimitSettings } from "../rate-limit.ts";
import type { TokenResolver } from "../tokens.ts";
import { StatusAccess } from "./access.ts";
import { loadAssets } from "./assets.ts";
import { expiryFrom, signToken } from "./link.ts";
import { JobLiveHub } from "./live.ts";
import type { StatusOptions } from "./options.ts";
import { statusRoutes } from "./routes.ts";
import { ensureSecretFile, secretFromEnv } from "./secret.ts";
import { DEFAULT_STREAM_TIMING, type StreamTiming } from "./stream.ts";

/** Name of the generated secret file in the state directory. */
export const SECRET_FILE = "status-link.secret";

/** Makes `<base>/ui/jobs/<id>?t=<signed link>` for `principal` (an id such as `alice`). */
export type JobLink = (jobId: string, principal: string) => string;

/** Inputs of {@link createStatus}. */
export interface StatusDeps {
  readonly options: StatusOptions;
  /** The configured principals (sessions and job links name one by id). */
  readonly principals: PrincipalDirectory;
  /** Resolves API bearer tokens (the resolver the HTTP app uses). */
  readonly resolveToken: TokenResolver;
  readonly policy: Policy;
  readonly registry: CommandRegistry;
  readonly jobs: JobStore;
  /** The bot's Redis connection (rate-limit counters). */
  readonly redis: RedisClient;
  /** The bot's pub/sub bus: live job events (the status page never closes it). */
  readonly bus: PubSubBus;
  /** Key prefix with its trailing colon, as the job store uses it (`commodore:`). */
  readonly prefix: string;
  /** The sealer the job store seals with: live messages are opened with it. */
  readonly sealer: StateSealer;
  readonly nodes: (() => Promise<NodeInfo[]>) | undefined;
  readonly anonymousFrom: readonly string[];
  /** Per-principal budget of the pages, shared by replicas in Redis (`http.rateLimit`). */
  readonly rateLimit: RateLimitSettings;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  /** Where a generated link secret is kept (unless `options.linkSecretEnv` names one). */
  readonly stateDir: string;
  readonly env: NodeJS.ProcessEnv;
  /** Base URL when `options.publicUrl` (http.publicUrl) is unset: the bound listen address. */
  readonly baseUrl: () => string;
  readonly timing?: StreamTiming;
  readonly now?: () => number;
}

/** The mounted status page. */
export interface Status {
  readonly routes: (app: HttpApp) => void;
  readonly jobLink: JobLink;
  close(): Promise<void>;
}

/** Builds the status page. Throws OptionsError when the link secret is missing or short. */
export function createStatus(deps: StatusDeps): Status {
  const { options, metrics } = deps;
  const now = deps.now ?? Date.now;
  const secret =
    options.linkSecretEnv === undefined
      ? ensureSecretFile(join(deps.stateDir, SECRET_FILE))
      : secretFromEnv(options.linkSecretEnv, deps.env);
  const rejected = metrics.counter(
    "commodore_status_rejected_total",
    "Status page requests refused or messages dropped, by reason",
  );
  const hub = new JobLiveHub(deps.bus, deps.prefix, deps.logger, rejected, deps.sealer);
  let open = 0;
  metrics.gauge("commodore_status_streams", "Open job event streams", () => open);
  const access = new StatusAccess({
    principals: deps.principals,
    resolveToken: deps.resolveToken,
    policy: deps.policy,
    registry: deps.registry,
    anonymousFrom: deps.anonymousFrom,
    secret,
    now,
  });
  const routes = statusRoutes({
    access,
    jobs: deps.jobs,
    hub,
    nodes: deps.nodes,
    options,
    secret,
    // Like the API: when Redis is unreachable, each replica limits from its own memory.
    limiter: new SharedRateLimiter({
      redis: deps.redis,
      prefix: deps.prefix.replace(/:$/, ""),
      scope: "ui",
      settings: deps.rateLimit,
      whenRedisDown: "local",
    }),
    rejected,
    streams: (delta) => (open += delta),
    assets: loadAssets(),
    timing: deps.timing ?? DEFAULT_STREAM_TIMING,
    now,
  });
  const jobLink: JobLink = (jobId, principal) => {
    const base = (options.publicUrl ?? deps.baseUrl()).replace(/\/+$/, "");
    const token = signToken(
      secret,
      "job",
      jobId,
      principal,
      expiryFrom(now(), options.linkTtlSeconds),
    );
    return `${base}/ui/jobs/${jobId}?t=${token}`;
  };
  return { routes, jobLink, close: () => hub.close() };
}
