/**
 * Turns a command outcome into a JSON response.
 */
import type { Context } from "hono";
import { resultLines } from "../../bot/format/result.ts";
import { errorBody, statusForCode } from "./errors.ts";
import type { HttpOutcome, StartedCommand } from "./run.ts";

/** Status of an accepted-but-unconfirmed dangerous command. */
const ACCEPTED = 202;

/**
 * Sends errors and pending confirmations in the common shapes; for results, `shape` builds
 * the body.
 */
export function respond(
  c: Context,
  outcome: HttpOutcome,
  shape: (o: Extract<HttpOutcome, { kind: "result" }>) => unknown = (o) => ({
    jobId: o.jobId,
    ok: o.ok,
    result: o.result,
    lines: resultLines(o.result),
  }),
) {
  if (outcome.kind === "error") {
    const e = outcome.event;
    return c.json(
      {
        ...errorBody(e.code, e.message, e.hint),
        ...(outcome.jobId === undefined ? {} : { jobId: outcome.jobId }),
      },
      statusForCode(e.code),
    );
  }
  if (outcome.kind === "confirm") {
    const e = outcome.event;
    return c.json(
      {
        confirm: {
          code: e.code,
          summary: e.summary,
          expiresAt: e.expiresAt,
          needsOtherPerson: e.needsOtherPerson,
        },
        message: `${e.summary}; POST /commands {"command": "confirm ${e.code}"} to run it`,
      },
      ACCEPTED,
    );
  }
  return c.json(shape(outcome) as object, 200);
}

/** Status of a command started asynchronously (`Prefer: respond-async`). */
const STARTED = 202;

/**
 * Answers a command started with `Prefer: respond-async`: 202 with `Location: /jobs/<id>` and
 * `Preference-Applied`, or the usual answer when it ended without a job.
 */
export function respondStarted(
  c: Context,
  started: StartedCommand,
  shape?: Parameters<typeof respond>[2],
) {
  if (started.kind === "done") return respond(c, started.outcome, shape);
  c.header("Location", `/jobs/${started.jobId}`);
  c.header("Preference-Applied", "respond-async");
  return c.json(
    {
      jobId: started.jobId,
      job: `/jobs/${started.jobId}`,
      events: `/jobs/${started.jobId}/events`,
    },
    STARTED,
  );
}
