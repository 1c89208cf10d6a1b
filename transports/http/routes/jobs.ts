/**
 * `GET /jobs`, `GET /jobs/:id`, `POST /jobs/:id/rerun`, `DELETE /jobs/:id` (or
 * `POST /jobs/:id/cancel`) and `GET /nodes`, answered through the bot's commands.
 *
 * `GET /jobs?limit=N&cursor=C` answers one page of summaries, newest first (`limit` default
 * {@link DEFAULT_JOBS_LISTED}, at most {@link MAX_JOBS_LISTED}; `nextCursor` asks for the next
 * page). The reads (`GET /jobs`, `GET /jobs/:id`, `GET /nodes`, `GET /nodes/pending`) create no
 * job: they cost their answer and one audit line.
 */
import { quoteWords } from "../../../bot/commands/tokenize.ts";
import type { CommandHandler } from "../../../bot/contract.ts";
import { DEFAULT_JOBS_LISTED, MAX_JOBS_LISTED } from "../../../bot/commands/builtins/jobs.ts";
import { JOB_CURSOR_PATTERN, JOB_ID_PATTERN } from "../../../bot/jobs/redis-store.ts";
import type { Context } from "hono";
import { z } from "zod";
import { RERUN_SUBSETS } from "../../../bot/pipeline/rerun.ts";
import type { HttpApp, HttpEnv } from "../context.ts";
import { sendError } from "../errors.ts";
import { respond } from "../respond.ts";
import { runCommand } from "../run.ts";
import { readJson } from "../body.ts";

/** The body of `POST /jobs/:id/rerun`: which hosts of the job to run again (default failed). */
export const rerunBody = z.object({ subset: z.enum(RERUN_SUBSETS).default("failed") }).strict();

/** 404 for a path id that cannot be a job id (nothing is looked up). */
function noSuchJob(c: Context<HttpEnv>, id: string) {
  return sendError(
    c,
    "E_NOT_FOUND",
    `no job ${JSON.stringify(id).slice(0, 40)}`,
    "job ids look like j3fa9c01b7e42",
  );
}

/** Registers the read-only job and node routes. */
export function jobRoutes(app: HttpApp, bot: CommandHandler): void {
  const run = (c: Context<HttpEnv>, words: string[], origin: string) =>
    runCommand(bot, {
      principal: c.get("principal"),
      transport: "http",
      text: quoteWords(words),
      origin,
    });

  app.get("/jobs", async (c) => {
    const limit = c.req.query("limit");
    const cursor = c.req.query("cursor");
    const n =
      limit === undefined ? DEFAULT_JOBS_LISTED : /^\d{1,4}$/.test(limit) ? Number(limit) : NaN;
    if (!(n >= 1 && n <= MAX_JOBS_LISTED))
      return sendError(
        c,
        "E_INVALID_FIELD",
        `limit: expected a whole number from 1 to ${MAX_JOBS_LISTED}, found ${JSON.stringify(limit).slice(0, 40)}`,
      );
    if (cursor !== undefined && !JOB_CURSOR_PATTERN.test(cursor))
      return sendError(
        c,
        "E_INVALID_FIELD",
        `cursor: expected the nextCursor of a previous page, found ${JSON.stringify(cursor).slice(0, 40)}`,
      );
    const words = ["jobs", String(n), ...(cursor === undefined ? [] : [cursor])];
    const outcome = await run(c, words, "GET /jobs");
    return respond(c, outcome, (o) => (o.result.kind === "data" ? o.result.data : o.result));
  });

  app.get("/jobs/:id", async (c) => {
    const id = c.req.param("id");
    if (!JOB_ID_PATTERN.test(id)) return noSuchJob(c, id);
    const outcome = await run(c, ["job", id], "GET /jobs/:id");
    return respond(c, outcome, (o) => (o.result.kind === "data" ? o.result.data : o.result));
  });

  app.post("/jobs/:id/rerun", async (c) => {
    const id = c.req.param("id");
    if (!JOB_ID_PATTERN.test(id)) return noSuchJob(c, id);
    const body = await readJson(c, rerunBody);
    const outcome = await run(c, ["rerun", id, body.subset], "POST /jobs/:id/rerun");
    return respond(c, outcome);
  });

  // Cancelling needs no body; POST is there for clients that cannot send DELETE.
  const cancel = async (c: Context<HttpEnv>, origin: string) => {
    const id = c.req.param("id") ?? "";
    if (!JOB_ID_PATTERN.test(id)) return noSuchJob(c, id);
    return respond(c, await run(c, ["cancel", id], origin));
  };
  app.delete("/jobs/:id", (c) => cancel(c, "DELETE /jobs/:id"));
  app.post("/jobs/:id/cancel", (c) => cancel(c, "POST /jobs/:id/cancel"));

  app.get("/nodes", async (c) => {
    const outcome = await run(c, ["nodes"], "GET /nodes");
    return respond(c, outcome, (o) =>
      o.result.kind === "nodes" ? { nodes: o.result.nodes } : o.result,
    );
  });

  app.get("/nodes/pending", async (c) => {
    const outcome = await run(c, ["nodes", "pending"], "GET /nodes/pending");
    return respond(c, outcome, (o) =>
      o.result.kind === "nodes" ? { nodes: o.result.nodes } : o.result,
    );
  });
}
