/**
 * Types shared by the HTTP app and its routes.
 */
import type { Hono } from "hono";
import type { CommandHandler, Principal } from "../../bot/contract.ts";
import type { Logger } from "../../lib/log.ts";
import type { MetricsRegistry } from "../../lib/metrics.ts";
import type { RedisClient } from "../../lib/redis/client.ts";
import type { HostCheckOptions } from "./host-check.ts";
import type { RateLimitSettings } from "./rate-limit.ts";
import type { TokenResolver } from "./tokens.ts";

/** Per-request values set by middleware. */
export interface HttpEnv {
  Variables: { principal: Principal };
}

/** The Hono app type every route module registers on. */
export type HttpApp = Hono<HttpEnv>;

/** A health check reported by `/healthz`: name → status; `ok` false makes it 503. */
export type HealthCheck = () => Promise<{
  readonly name: string;
  readonly ok: boolean;
  readonly status: string;
}>;

/**
 * `http.rateLimit`: the per-principal budget of the API, and the per-address budgets of the
 * routes that authenticate themselves (defaults: DEFAULT_LOGIN_RATE_LIMIT and
 * DEFAULT_WEBHOOK_RATE_LIMIT in rate-limit.ts).
 */
export interface HttpRateLimits extends RateLimitSettings {
  /** `POST /ui/login`, per client address. */
  readonly login?: RateLimitSettings;
  /** `/voice/alexa` and `/provision/callback`, per client address. */
  readonly webhooks?: RateLimitSettings;
}

/** What {@link createHttpApp} needs. */
export interface HttpDeps {
  readonly bot: CommandHandler;
  /** Resolves bearer tokens to principals (tokens.ts). */
  readonly resolveToken: TokenResolver;
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly bodyLimitBytes: number;
  readonly rateLimit: HttpRateLimits;
  /** The bot's Redis connection: rate-limit counters shared by every replica. */
  readonly redis: RedisClient;
  /** The bot's key prefix without a colon (`redis.prefix`, e.g. `commodore`). */
  readonly redisPrefix: string;
  /** Which `Host` names this server answers to, and `http.publicUrl` for origin checks. */
  readonly hosts: HostCheckOptions;
  /** Remote addresses allowed to call without a token, as the anonymous principal. */
  readonly anonymousFrom: readonly string[];
  readonly health: readonly HealthCheck[];
  /** Extra routes other transports mount (voice webhook, provisioning callback). */
  readonly routes?: ReadonlyArray<(app: HttpApp) => void>;
}
