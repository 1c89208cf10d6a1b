/**
 * `POST /fleet` with `{"args": ["uptime"], "where": {"role": "web"}}`: the original's answer
 * shape `{count, message, resps}` plus `summary` and `jobId`.
 */
import { z } from "zod";
import { quoteWords } from "../../../bot/commands/tokenize.ts";
import { hostLines, summaryLine, fleetOk } from "../../../bot/format/fleet.ts";
import type { CommandHandler } from "../../../bot/contract.ts";
import { readJson } from "../body.ts";
import type { HttpApp } from "../context.ts";
import { respond } from "../respond.ts";
import { runCommand } from "../run.ts";

/** Most words in `args`. */
export const MAX_ARGS = 32;
/** Longest single argument or fact value. */
export const MAX_WORD_LENGTH = 256;

const word = z
  .string()
  .min(1, "a non-empty string")
  .max(MAX_WORD_LENGTH, `at most ${MAX_WORD_LENGTH} characters`);

/** The request body. */
export const fleetBody = z
  .object({
    args: z.array(word).min(1, 'a list with the provider first, e.g. ["uptime"]').max(MAX_ARGS),
    where: z.record(word).optional(),
  })
  .strict();

/** Registers `POST /fleet`. */
export function fleetRoute(app: HttpApp, bot: CommandHandler): void {
  app.post("/fleet", async (c) => {
    const body = await readJson(c, fleetBody);
    const terms = Object.entries(body.where ?? {}).map(([k, v]) => `${k}=${v}`);
    const text = quoteWords([
      "fleet",
      ...body.args,
      ...(terms.length > 0 ? ["where", ...terms] : []),
    ]);
    const outcome = await runCommand(bot, {
      principal: c.get("principal"),
      transport: "http",
      text,
      origin: "POST /fleet",
    });
    return respond(c, outcome, (o) => {
      if (o.result.kind !== "fleet") return { jobId: o.jobId, ok: o.ok, result: o.result };
      const fleet = o.result.fleet;
      return {
        count: fleet.replies.length,
        message: hostLines(fleet).join("\n"),
        resps: fleet.replies,
        summary: {
          ...fleet.summary,
          ok: fleetOk(fleet.summary),
          line: summaryLine(fleet),
          hosts: fleet.hosts,
        },
        jobId: o.jobId,
      };
    });
  });
}
