/**
 * `POST /fleet` with `{"args": ["uptime"], "where": {"role": "web"}}`: the original's answer
 * shape `{count, message, resps}` plus `summary`, `groups` (hosts with identical outcomes,
 * minorities first with a diff against the majority: bot/format/outliers.ts) and `jobId`. Optional `filter` (where terms
 * such as `env!=prod`), `hosts`, `limit`, `batch`, `batchWait` (seconds) and
 * `stopAfterFailures` become the same command text as on IRC.
 */
import { z } from "zod";
import { quoteWords } from "../../../bot/commands/tokenize.ts";
import { hostLines, summaryLine, fleetOk } from "../../../bot/format/fleet.ts";
import { outputGroups } from "../../../bot/format/outliers.ts";
import type { CommandHandler } from "../../../bot/contract.ts";
import { readJson } from "../body.ts";
import type { HttpApp } from "../context.ts";
import { respond, respondStarted } from "../respond.ts";
import { prefersAsync, runCommand, startCommand } from "../run.ts";

/** Most words in `args`. */
export const MAX_ARGS = 32;
/** Longest single argument or fact value. */
export const MAX_WORD_LENGTH = 256;

const word = z
  .string()
  .min(1, "a non-empty string")
  .max(MAX_WORD_LENGTH, `at most ${MAX_WORD_LENGTH} characters`);

const amount = z.union([
  z.number().int().min(1, "at least 1"),
  z.string().regex(/^\d{1,6}%?$/, 'a host count such as 2 or a percentage such as "25%"'),
]);
const count = (min: number) => z.number().int().min(min, `a whole number from ${min}`);

/** The request body. */
export const fleetBody = z
  .object({
    args: z.array(word).min(1, 'a list with the provider first, e.g. ["uptime"]').max(MAX_ARGS),
    where: z.record(word).optional(),
    filter: z.array(word).max(MAX_ARGS).optional(),
    hosts: z.array(word).min(1).max(MAX_ARGS).optional(),
    limit: amount.optional(),
    batch: amount.optional(),
    batchWait: count(0).optional(),
    stopAfterFailures: count(1).optional(),
  })
  .strict();

/** Command words for the optional rollout and targeting fields. */
function optionWords(body: z.infer<typeof fleetBody>): string[] {
  const pairs: [string, string | number | undefined][] = [
    ["--hosts", body.hosts?.join(",")],
    ["--limit", body.limit],
    ["--batch", body.batch],
    ["--batch-wait", body.batchWait],
    ["--stop-after-failures", body.stopAfterFailures],
  ];
  return pairs.flatMap(([flag, v]) => (v === undefined ? [] : [flag, String(v)]));
}

/** Registers `POST /fleet`. */
export function fleetRoute(app: HttpApp, bot: CommandHandler): void {
  app.post("/fleet", async (c) => {
    const body = await readJson(c, fleetBody);
    const terms = [
      ...Object.entries(body.where ?? {}).map(([k, v]) => `${k}=${v}`),
      ...(body.filter ?? []),
    ];
    const text = quoteWords([
      "fleet",
      ...body.args,
      ...optionWords(body),
      ...(terms.length > 0 ? ["where", ...terms] : []),
    ]);
    const invocation = {
      principal: c.get("principal"),
      transport: "http" as const,
      text,
      origin: "POST /fleet",
    };
    if (prefersAsync(c.req.header("prefer")))
      return respondStarted(c, await startCommand(bot, invocation));
    const outcome = await runCommand(bot, invocation);
    return respond(c, outcome, (o) => {
      if (o.result.kind !== "fleet") return { jobId: o.jobId, ok: o.ok, result: o.result };
      const fleet = o.result.fleet;
      return {
        count: fleet.replies.length,
        message: hostLines(fleet).join("\n"),
        resps: fleet.replies,
        summary: {
          ...fleet.summary,
          allOk: fleetOk(fleet.summary),
          line: summaryLine(fleet),
          hosts: fleet.hosts,
        },
        groups: outputGroups(fleet),
        jobId: o.jobId,
      };
    });
  });
}
