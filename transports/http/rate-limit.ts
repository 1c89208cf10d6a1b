/**
 * Rate limits shared by every bot replica: fixed-window counters in Redis
 * (rate-limiter-flexible's `RateLimiterRedis`, one atomic Lua `INCRBY` + expiry per request, a
 * single key each, so it works on one server, behind Sentinel and on a Cluster).
 *
 * The configured `burst` and `perMinute` become a window of `burst` requests per
 * `burst × 60 / perMinute` seconds: a caller may make `burst` requests at once and `perMinute`
 * per minute on average (at a window boundary up to twice `burst` can pass in quick
 * succession). Keys are `<prefix>:ratelimit:<scope>:<points>p<seconds>s:<caller>`, under the
 * bot's key prefix so its Redis ACL user may use them; the window is part of the name, so a
 * changed limit starts fresh counters instead of misreading old ones.
 *
 * When Redis cannot be asked, `whenRedisDown` decides: `local` falls back to the same window in
 * this process's memory (rate-limiter-flexible's insurance limiter; N replicas then allow N
 * times the rate), `refuse` answers {@link RateDecision} `unavailable` (fail closed).
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import { errorMessage, OptionsError } from "../../lib/errors.ts";
import type { RedisClient } from "../../lib/redis/client.ts";

/** A budget: `burst` requests at once, `perMinute` per minute on average. */
export interface RateLimitSettings {
  readonly perMinute: number;
  readonly burst: number;
}

/** What happens when Redis does not answer: per-replica memory limits, or refusal. */
export type WhenRedisDown = "local" | "refuse";

/** Default budget of `POST /ui/login` per client address (token guessing). */
export const DEFAULT_LOGIN_RATE_LIMIT: RateLimitSettings = { perMinute: 10, burst: 5 };
/** Default budget of `/voice/alexa` and `/provision/callback` per client address. */
export const DEFAULT_WEBHOOK_RATE_LIMIT: RateLimitSettings = { perMinute: 120, burst: 30 };

/** The bot's key prefix (`redis.prefix`): letters, digits, `_ . -`. */
const KEY_PREFIX = /^[A-Za-z0-9_.-]{1,64}$/;
/** A scope names one budget (`api`, `ui`, `login`, `voice`, `callback`). */
const SCOPE = /^[a-z][a-z0-9-]{0,31}$/;
/** Longest caller key kept (principal ids and addresses are far shorter). */
const MAX_CALLER_KEY = 200;
const SECONDS_PER_MINUTE = 60;
const MS_PER_SECOND = 1_000;

/** Options of {@link SharedRateLimiter}. */
export interface SharedRateLimiterOptions {
  /** The bot's command connection (single, Sentinel or Cluster). */
  readonly redis: RedisClient;
  /** The bot's key prefix without a colon (`commodore`). */
  readonly prefix: string;
  /** Which budget this is; part of every key. */
  readonly scope: string;
  readonly settings: RateLimitSettings;
  readonly whenRedisDown: WhenRedisDown;
}

/** The answer for one request. */
export type RateDecision =
  | { readonly kind: "allowed" }
  | { readonly kind: "limited"; readonly retryAfterSeconds: number }
  | { readonly kind: "unavailable"; readonly reason: string };

/** A fixed window equivalent to a burst/perMinute budget. */
export interface RateWindow {
  readonly points: number;
  readonly seconds: number;
}

/**
 * The window for `settings`: `burst` points per `ceil(burst × 60 / perMinute)` seconds, or, when
 * that is under a second, `ceil(perMinute / 60)` points per second.
 */
export function rateWindow(settings: RateLimitSettings): RateWindow {
  const seconds = (settings.burst * SECONDS_PER_MINUTE) / settings.perMinute;
  if (seconds >= 1) return { points: settings.burst, seconds: Math.ceil(seconds) };
  return { points: Math.ceil(settings.perMinute / SECONDS_PER_MINUTE), seconds: 1 };
}

const positive = (n: number) => Number.isInteger(n) && n > 0;

/** One shared budget per caller key. */
export class SharedRateLimiter {
  private readonly limiter: RateLimiterRedis;

  constructor(options: SharedRateLimiterOptions) {
    const { settings } = options;
    if (!KEY_PREFIX.test(options.prefix))
      throw new OptionsError(
        `rate limit prefix: expected a key prefix such as commodore, found ${JSON.stringify(options.prefix)}`,
      );
    if (!SCOPE.test(options.scope))
      throw new OptionsError(
        `rate limit scope: expected a lowercase name such as api, found ${JSON.stringify(options.scope)}`,
      );
    if (!positive(settings.perMinute) || !positive(settings.burst))
      throw new OptionsError(
        `rate limit ${options.scope}: expected whole numbers from 1 for perMinute and burst, found ${settings.perMinute} and ${settings.burst}`,
      );
    const window = rateWindow(settings);
    // e.g. commodore:ratelimit:api:30p15s (the library appends `:<caller>`)
    const keyPrefix = `${options.prefix}:ratelimit:${options.scope}:${window.points}p${window.seconds}s`;
    const common = { keyPrefix, points: window.points, duration: window.seconds };
    this.limiter = new RateLimiterRedis({
      ...common,
      storeClient: options.redis,
      // Without this ioredis would queue the command until Redis is back.
      rejectIfRedisNotReady: true,
      ...(options.whenRedisDown === "local"
        ? { insuranceLimiter: new RateLimiterMemory(common) }
        : {}),
    });
  }

  /** Counts one request of `caller` (a principal id or an address). */
  async take(caller: string): Promise<RateDecision> {
    try {
      await this.limiter.consume(caller.slice(0, MAX_CALLER_KEY));
      return { kind: "allowed" };
    } catch (err) {
      if (err instanceof RateLimiterRes)
        return {
          kind: "limited",
          retryAfterSeconds: Math.max(1, Math.ceil(err.msBeforeNext / MS_PER_SECOND)),
        };
      return { kind: "unavailable", reason: errorMessage(err) };
    }
  }
}
