/**
 * The HTTP app factory. Separate from the server so other transports (voice webhook,
 * provisioning callback) can add routes and tests can drive it in-process.
 *
 * Order: metrics → Host check (421) → cross-origin check (403) → body limit → /healthz,
 * /metrics → per-address limits of the routes that authenticate themselves → extra routes
 * (voice webhook, status page, provisioning callback) → bearer auth and per-principal rate
 * limit → JSON bodies only (415) → /fleet, /commands, /jobs, /nodes.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { errorMessage } from "../../lib/errors.ts";
import { addressLimit, authMiddleware } from "./auth.ts";
import type { HttpApp, HttpDeps, HttpEnv } from "./context.ts";
import { HttpError, sendError } from "./errors.ts";
import { hostCheck, HostPolicy } from "./host-check.ts";
import { requireJson } from "./media-type.ts";
import { originCheck } from "./origin-check.ts";
import {
  DEFAULT_LOGIN_RATE_LIMIT,
  DEFAULT_WEBHOOK_RATE_LIMIT,
  SharedRateLimiter,
  type RateLimitSettings,
  type WhenRedisDown,
} from "./rate-limit.ts";
import { commandsRoute } from "./routes/commands.ts";
import { fleetRoute } from "./routes/fleet.ts";
import { jobRoutes } from "./routes/jobs.ts";
import { openApiRoute } from "./routes/openapi.ts";
import { opsRoutes } from "./routes/ops.ts";
import { registerServerOptions } from "./server.ts";

const MS_PER_SECOND = 1_000;
const KNOWN_ROUTES = new Set([
  "/fleet",
  "/commands",
  "/jobs",
  "/jobs/:id",
  "/nodes",
  "/healthz",
  "/metrics",
]);
/**
 * What undici's `Request.formData()` (behind Hono's `c.req.parseBody()`) throws for a form body
 * that does not parse: the client's fault, answered 400 rather than 500.
 */
const UNPARSABLE_FORM = /^Failed to parse body as FormData/;
/** Routes that authenticate themselves, limited per client address before they run. */
const LOGIN_PATH = "/ui/login";
const VOICE_PATH = "/voice/alexa";
const CALLBACK_PATHS = ["/provision/callback", "/provision/callback/*"];

/** Builds the Hono app with every route. */
export function createHttpApp(deps: HttpDeps): HttpApp {
  const { metrics, logger } = deps;
  const requests = metrics.counter(
    "commodore_http_requests_total",
    "HTTP requests by route, method and status",
  );
  const latency = metrics.histogram(
    "commodore_http_request_duration_seconds",
    "HTTP request latency by route",
  );
  const rejected = metrics.counter(
    "commodore_http_rejected_total",
    "HTTP requests rejected, by reason",
  );
  const app = new Hono<HttpEnv>();
  // What Node refuses before the app runs (431, 400, 408) is counted and logged here too.
  registerServerOptions(app, { logger, metrics });

  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    const route = KNOWN_ROUTES.has(c.req.routePath) ? c.req.routePath : "other";
    requests.inc({ route, method: c.req.method, status: String(c.res.status) });
    latency.observe((performance.now() - started) / MS_PER_SECOND, { route });
  });
  const hosts = new HostPolicy(deps.hosts);
  if (hosts.open) logger.warn("DNS rebinding protection is off (http.allowedHosts has *)");
  else if (
    hosts.wildcardListen &&
    deps.hosts.publicUrl === undefined &&
    deps.hosts.allowedHosts.length === 0
  )
    logger.warn("listening on every interface; requests naming another host get 421", {
      hosts: hosts.describe(),
      hint: "add the DNS names people use to http.publicUrl or http.allowedHosts",
    });
  app.use("*", hostCheck(hosts, rejected));
  app.use("*", originCheck({ publicUrl: deps.hosts.publicUrl }, rejected));
  app.use(
    "*",
    bodyLimit({
      maxSize: deps.bodyLimitBytes,
      onError: (c) => {
        rejected.inc({ reason: "body_limit" });
        return sendError(
          c,
          "E_BODY_TOO_LARGE",
          `request body is larger than ${deps.bodyLimitBytes} bytes`,
        );
      },
    }),
  );
  opsRoutes(app, deps.health, metrics);
  openApiRoute(app);
  const limiter = (scope: string, settings: RateLimitSettings, whenRedisDown: WhenRedisDown) =>
    new SharedRateLimiter({
      redis: deps.redis,
      prefix: deps.redisPrefix,
      scope,
      settings,
      whenRedisDown,
    });
  // Fail closed: these routes need Redis for their work anyway (the callback queue, the voice
  // replay cache, sessions for pages that read Redis), and they face credential guessing.
  const login = deps.rateLimit.login ?? DEFAULT_LOGIN_RATE_LIMIT;
  const webhooks = deps.rateLimit.webhooks ?? DEFAULT_WEBHOOK_RATE_LIMIT;
  app.on("POST", LOGIN_PATH, addressLimit(limiter("login", login, "refuse"), rejected, logger));
  app.on("POST", VOICE_PATH, addressLimit(limiter("voice", webhooks, "refuse"), rejected, logger));
  app.on(
    "POST",
    CALLBACK_PATHS,
    addressLimit(limiter("callback", webhooks, "refuse"), rejected, logger),
  );
  for (const add of deps.routes ?? []) add(app);
  // Fail to this replica's memory: callers keep a budget, and commands report Redis themselves.
  app.use(
    "*",
    authMiddleware(
      deps.resolveToken,
      deps.anonymousFrom,
      limiter("api", deps.rateLimit, "local"),
      rejected,
      logger,
    ),
  );
  app.use("*", requireJson(rejected));
  fleetRoute(app, deps.bot);
  commandsRoute(app, deps.bot);
  jobRoutes(app, deps.bot);

  app.notFound((c) => {
    rejected.inc({ reason: "not_found" });
    return sendError(
      c,
      "E_NOT_FOUND",
      `no route ${c.req.method} ${c.req.path.slice(0, 100)}`,
      "routes: POST /fleet, POST /commands, GET /jobs, GET /jobs/:id, GET /nodes, GET /healthz, GET /metrics",
    );
  });
  app.onError((err, c) => {
    if (err instanceof HttpError) {
      rejected.inc({
        reason: err.code === "E_MALFORMED_JSON" ? "malformed_json" : "invalid_field",
      });
      return sendError(c, err.code, err.message, err.hint);
    }
    if (err instanceof TypeError && UNPARSABLE_FORM.test(err.message)) {
      rejected.inc({ reason: "malformed_request" });
      return sendError(
        c,
        "E_MALFORMED_REQUEST",
        "the request body is not the form its Content-Type names",
      );
    }
    logger.error("http handler failed", { path: c.req.path, error: errorMessage(err) });
    return sendError(c, "E_INTERNAL", "internal error; the server log has the details");
  });
  return app;
}
