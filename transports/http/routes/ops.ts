/** `GET /healthz` (Redis and other checks) and `GET /metrics` (Prometheus text). */
import type { MetricsRegistry } from "../../../lib/metrics.ts";
import type { HealthCheck, HttpApp } from "../context.ts";

const UNAVAILABLE = 503;

/** Registers the unauthenticated operations routes. */
export function opsRoutes(
  app: HttpApp,
  health: readonly HealthCheck[],
  metrics: MetricsRegistry,
): void {
  app.get("/healthz", async (c) => {
    const results = await Promise.all(
      health.map(async (check) => {
        try {
          return await check();
        } catch (err) {
          return {
            name: "check",
            ok: false,
            status: err instanceof Error ? err.message : "failed",
          };
        }
      }),
    );
    const ok = results.every((r) => r.ok);
    const checks = Object.fromEntries(results.map((r) => [r.name, r.status]));
    return c.json({ status: ok ? "ok" : "degraded", checks }, ok ? 200 : UNAVAILABLE);
  });
  app.get("/metrics", async (c) =>
    c.text(await metrics.scrape(), 200, {
      "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
    }),
  );
}
