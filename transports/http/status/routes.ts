/**
 * The `/ui` routes: fleet view, jobs list, job page with its event stream and static files
 * (sign in / out are in session.ts). Every data route authenticates itself (see access.ts)
 * before reading anything.
 */
import type { Context } from "hono";
import { setCookie } from "hono/cookie";
import { JOB_ID_PATTERN } from "../../../bot/jobs/redis-store.ts";
import type { JobStore } from "../../../bot/jobs/types.ts";
import type { Principal } from "../../../bot/contract.ts";
import { selectNodes } from "../../../executors/fleet/index.ts";
import { ANONYMOUS_ID } from "../../../bot/identity/directory.ts";
import type { NodeInfo } from "../../../executors/fleet/index.ts";
import type { Counter } from "../../../lib/metrics.ts";
import type { HttpApp } from "../context.ts";
import type { SharedRateLimiter } from "../rate-limit.ts";
import { isLinkViewer, JOB_COOKIE, SESSION_COOKIE, type StatusAccess } from "./access.ts";
import type { Asset } from "./assets.ts";
import { sendError } from "../errors.ts";
import { forbiddenPage, JSON_REFUSALS, PAGE_REFUSALS, type Refusals } from "./errors.ts";
import { fleetContent } from "./fleet-page.ts";
import { jobContent } from "./job-page.ts";
import { jobsContent } from "./jobs-page.ts";
import { securityHeaders, sendPage } from "./layout.ts";
import { verifyToken } from "./link.ts";
import type { JobLiveHub } from "./live.ts";
import type { StatusOptions } from "./options.ts";
import { sessionRoutes } from "./session.ts";
import { jobStream, type StreamTiming } from "./stream.ts";

/** Jobs the list shows. */
const JOBS_SHOWN = 100;
const MS_PER_SECOND = 1_000;
/** Retry-After sent when the page budget cannot be checked (as the API's limits.ts). */
const UNAVAILABLE_RETRY_SECONDS = 5;

/** What the routes need. */
export interface StatusRouteDeps {
  readonly access: StatusAccess;
  readonly jobs: JobStore;
  readonly hub: JobLiveHub;
  /**
   * Registered nodes in every enrollment state (pending ones are shown only to callers who may
   * run `nodes pending`), or undefined when the bot runs without a fleet.
   */
  readonly nodes: (() => Promise<NodeInfo[]>) | undefined;
  readonly options: StatusOptions;
  readonly secret: Buffer;
  readonly limiter: SharedRateLimiter;
  readonly rejected: Counter;
  readonly streams: (delta: number) => void;
  readonly assets: ReadonlyMap<string, Asset>;
  readonly timing: StreamTiming;
  readonly now: () => number;
}

/** Registers the status routes on `app`. */
export function statusRoutes(deps: StatusRouteDeps): (app: HttpApp) => void {
  const { access, options, rejected } = deps;
  const secure = options.publicUrl?.startsWith("https:") === true;

  /**
   * The allowed caller, or the response refusing them (`refuse`: as pages or, for streams, in
   * the JSON error shape; rate-limit refusals are always JSON, as the API's are).
   */
  const gate = async (
    c: Context,
    jobId?: string,
    refuse: Refusals = PAGE_REFUSALS,
  ): Promise<Principal | Response> => {
    const who = access.caller(c, jobId);
    if (!who.ok) {
      rejected.inc({ reason: who.reason });
      return refuse.unauthorized(
        c,
        who.reason === "bad_link"
          ? "This link is not valid or has expired. Ask the bot again (job <id>) for a fresh one."
          : who.reason === "bad_token"
            ? "The bearer token is not valid."
            : "This page needs a token or a link from the bot.",
      );
    }
    if (isLinkViewer(who.principal) && who.principal.link.jobId !== jobId) {
      rejected.inc({ reason: "link_scope" });
      return refuse.forbidden(
        c,
        who.principal.id,
        `This link opens job ${who.principal.link.jobId} only. Sign in to see more.`,
      );
    }
    const key =
      who.principal.id === ANONYMOUS_ID ? `anonymous@${who.principal.display}` : who.principal.id;
    const decision = await deps.limiter.take(key);
    if (decision.kind === "limited") {
      rejected.inc({ reason: "rate_limited" });
      c.header("Retry-After", String(decision.retryAfterSeconds));
      return sendError(
        c,
        "E_RATE_LIMITED",
        `too many requests from ${key}`,
        `retry in ${decision.retryAfterSeconds} s`,
      );
    }
    if (decision.kind === "unavailable") {
      rejected.inc({ reason: "rate_limit_unavailable" });
      c.header("Retry-After", String(UNAVAILABLE_RETRY_SECONDS));
      return sendError(
        c,
        "E_RATE_LIMIT_UNAVAILABLE",
        "the request budget cannot be checked (Redis is unreachable)",
        `retry in ${UNAVAILABLE_RETRY_SECONDS} s`,
      );
    }
    c.set("principal", who.principal);
    return who.principal;
  };
  const hasSession = (c: Context) =>
    c.req.header("cookie")?.includes(`${SESSION_COOKIE}=`) === true;
  const page = (c: Context, p: Principal, title: string) => ({
    title,
    who: p.id,
    session: hasSession(c),
  });

  /**
   * Job `id` and the allowed caller, when they may see it: the `job` grant, or their own job
   * (for a job link's viewer: the grant or job of the principal the link was made for);
   * otherwise the response refusing them.
   */
  const visibleJob = async (c: Context, id: string, refuse: Refusals = PAGE_REFUSALS) => {
    const p = await gate(c, id, refuse);
    if (p instanceof Response) return p;
    const job = JOB_ID_PATTERN.test(id) ? await deps.jobs.get(id) : undefined;
    if (!job)
      return refuse.notFound(c, `No job ${id.slice(0, 40)}; jobs expire after a while.`, p.id);
    const reader = isLinkViewer(p) ? p.link.issuer : p;
    const permitted = access.permit(reader, ["job", id]);
    const own = reader.id !== ANONYMOUS_ID && job.principal === reader.id;
    if (typeof permitted === "string" && !own) return refuse.forbidden(c, p.id, permitted);
    return { p, job };
  };

  return (app) => {
    app.get("/ui/static/:file", (c) => {
      const asset = deps.assets.get(c.req.param("file"));
      if (!asset) return JSON_REFUSALS.notFound(c, "no such file");
      c.header("X-Content-Type-Options", "nosniff");
      c.header("Cache-Control", "no-cache");
      return c.body(asset.body, 200, { "Content-Type": asset.type });
    });

    app.get("/ui/", (c) => c.redirect("/ui", 301));
    app.get("/ui", async (c) => {
      const p = await gate(c);
      if (p instanceof Response) return p;
      const cmd = access.permit(p, ["nodes"]);
      if (typeof cmd === "string") return forbiddenPage(c, p.id, cmd);
      const all = deps.nodes ? await deps.nodes() : [];
      const match = { all: false, node_facts: { ...cmd.where } };
      const nodes = selectNodes(match, all);
      const mayEnroll = typeof access.permit(p, ["nodes", "pending"]) !== "string";
      return sendPage(
        c,
        200,
        { ...page(c, p, "fleet"), scripts: ["table.js"] },
        fleetContent(
          nodes.filter((n) => n.state === "accepted"),
          mayEnroll ? nodes.filter((n) => n.state !== "accepted") : [],
          deps.now(),
          options.staleAfterSeconds,
          cmd.where,
        ),
      );
    });

    app.get("/ui/jobs", async (c) => {
      const p = await gate(c);
      if (p instanceof Response) return p;
      const denied = access.permit(p, ["jobs"]);
      if (typeof denied === "string") return forbiddenPage(c, p.id, denied);
      const jobs = await deps.jobs.list(JOBS_SHOWN);
      return sendPage(
        c,
        200,
        { ...page(c, p, "jobs"), scripts: ["table.js"] },
        jobsContent(jobs, deps.now()),
      );
    });

    app.get("/ui/jobs/:id", async (c) => {
      const id = c.req.param("id");
      const seen = await visibleJob(c, id);
      if (seen instanceof Response) return seen;
      const { p, job } = seen;
      const link = c.req.query("t");
      if (link !== undefined) {
        const v = verifyToken(deps.secret, "job", id, link, deps.now());
        const maxAge = v ? v.expires - Math.floor(deps.now() / MS_PER_SECOND) : 0;
        setCookie(c, JOB_COOKIE, link, {
          path: `/ui/jobs/${id}`,
          httpOnly: true,
          sameSite: "Strict",
          secure,
          maxAge,
        });
        securityHeaders(c);
        return c.redirect(`/ui/jobs/${id}`, 303);
      }
      return sendPage(
        c,
        200,
        { ...page(c, p, `job ${id}`), scripts: ["charts.js", "job.js"] },
        jobContent(job),
      );
    });

    const events = async (c: Context) => {
      const id = c.req.param("id") ?? "";
      const seen = await visibleJob(c, id, JSON_REFUSALS);
      if (seen instanceof Response) return seen;
      securityHeaders(c);
      return jobStream(c, id, deps.jobs, deps.hub, deps.timing, deps.streams);
    };
    app.get("/ui/jobs/:id/events", events);
    // The same stream for API clients (`Prefer: respond-async` answers point here).
    app.get("/jobs/:id/events", events);

    sessionRoutes(app, { access, options, secret: deps.secret, rejected, now: deps.now });

    app.all("/ui/*", (c) => PAGE_REFUSALS.notFound(c, `No page ${c.req.path.slice(0, 100)}.`));
  };
}
