/**
 * The HTTP app factory. Separate from the server so other transports (voice webhook,
 * provisioning callback) can add routes and tests can drive it in-process.
 *
 * Order: metrics → body limit → /healthz, /metrics → extra routes (authenticate themselves)
 * → bearer auth and rate limit → /fleet, /commands, /jobs, /nodes.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { errorMessage } from "../../lib/errors.ts";
import { authMiddleware } from "./auth.ts";
import type { HttpApp, HttpDeps, HttpEnv } from "./context.ts";
import { HttpError, sendError } from "./errors.ts";
import { RateLimiter } from "./rate-limit.ts";
import { commandsRoute } from "./routes/commands.ts";
import { fleetRoute } from "./routes/fleet.ts";
import { jobRoutes } from "./routes/jobs.ts";
import { opsRoutes } from "./routes/ops.ts";

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

  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    const route = KNOWN_ROUTES.has(c.req.routePath) ? c.req.routePath : "other";
    requests.inc({ route, method: c.req.method, status: String(c.res.status) });
    latency.observe((performance.now() - started) / MS_PER_SECOND, { route });
  });
  app.use(
    "*",
    bodyLimit({
      maxSize: deps.bodyLimitBytes,
      onError: (c) => {
        rejected.inc({ reason: "body_limit" });
        return sendError(
          c,
          413,
          "E_BODY_TOO_LARGE",
          `request body is larger than ${deps.bodyLimitBytes} bytes`,
        );
      },
    }),
  );
  opsRoutes(app, deps.health, metrics);
  for (const add of deps.routes ?? []) add(app);
  app.use(
    "*",
    authMiddleware(deps.identity, deps.anonymousFrom, new RateLimiter(deps.rateLimit), rejected),
  );
  fleetRoute(app, deps.bot);
  commandsRoute(app, deps.bot);
  jobRoutes(app, deps.bot);

  app.notFound((c) => {
    rejected.inc({ reason: "not_found" });
    return sendError(
      c,
      404,
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
      return sendError(c, err.status, err.code, err.message, err.hint);
    }
    logger.error("http handler failed", { path: c.req.path, error: errorMessage(err) });
    return sendError(c, 500, "E_INTERNAL", "internal error; the server log has the details");
  });
  return app;
}
