/**
 * `rerun <job> [failed|silent|all]`: repeats a fleet job on exactly that subset of its hosts.
 * Like `confirm`, it is resolved early in the chain: the job's command text gets `--hosts`
 * naming the subset and replaces the invocation's command, so the rest of the chain checks it
 * exactly as a new command from the caller (grants, pinned arguments and targets, risk,
 * blast-radius approval, confirmation), and the new job records which job it reran.
 */
import { CommodoreError } from "../../lib/errors.ts";
import type { HostResult, HostStatus } from "../../executors/fleet/index.ts";
import type { JobReadCheck } from "../commands/job-access.ts";
import { PermissionDeniedError } from "../commands/errors.ts";
import { parseCommand } from "../commands/parse.ts";
import type { CommandRegistry } from "../commands/registry.ts";
import { quoteWords, tokenize } from "../commands/tokenize.ts";
import type { JobStore } from "../jobs/types.ts";
import type { Middleware } from "./context.ts";

/** Name the pipeline recognises as a rerun. */
export const RERUN_COMMAND = "rerun";
/** Which hosts of the job a rerun takes. */
export const RERUN_SUBSETS = ["failed", "silent", "all"] as const;
/** One of {@link RERUN_SUBSETS}. */
export type RerunSubset = (typeof RERUN_SUBSETS)[number];

const HOSTS_OPTION = "--hosts";
const WHERE = "where";
/** Host statuses each subset takes (`all`: every host the job had). */
const STATUSES: Readonly<Record<RerunSubset, readonly HostStatus[] | undefined>> = {
  failed: ["failed"],
  silent: ["no_ack", "no_result", "absent"],
  all: undefined,
};

/** The hostnames of `hosts` a subset takes, sorted. */
export function rerunHosts(hosts: readonly HostResult[], subset: RerunSubset): string[] {
  const wanted = STATUSES[subset];
  return hosts
    .filter((h) => wanted === undefined || wanted.includes(h.status))
    .map((h) => h.hostname)
    .sort();
}

/** `text` with `--hosts` naming exactly `hosts` (an earlier `--hosts` is replaced). */
export function withHosts(text: string, hosts: readonly string[]): string {
  const words = tokenize(text);
  const given = words.indexOf(HOSTS_OPTION);
  if (given >= 0) words.splice(given, 2);
  const whereAt = words.findIndex((w) => w.toLowerCase() === WHERE);
  words.splice(whereAt < 0 ? words.length : whereAt, 0, HOSTS_OPTION, hosts.join(","));
  return quoteWords(words);
}

/** Replaces `rerun <job> [subset]` with the job's command on that subset of its hosts. */
export function resolveRerunStep(
  jobs: JobStore,
  registry: CommandRegistry,
  canRead: JobReadCheck,
): Middleware {
  return async (ctx, next) => {
    if (ctx.command?.spec.name !== RERUN_COMMAND) return await next();
    const id = String(ctx.command.args["job"]);
    const subset = (ctx.command.args["subset"] ?? "failed") as RerunSubset;
    const denial = canRead(ctx.requester, id);
    if (denial !== undefined) throw new PermissionDeniedError(denial.message, denial.hint);
    const job = await jobs.get(id);
    if (!job)
      throw new CommodoreError("E_NOT_FOUND", `no job ${id}`, {
        hint: "`jobs` lists recent jobs; jobs are kept for bot.jobTtlSeconds",
      });
    if (job.result?.kind !== "fleet")
      throw new CommodoreError("E_BAD_ARGUMENT", `job ${id} is not a finished fleet job`, {
        hint: "rerun repeats fleet commands once they finished",
      });
    const hosts = rerunHosts(job.result.fleet.hosts, subset);
    if (hosts.length === 0)
      throw new CommodoreError("E_BAD_ARGUMENT", `job ${id} has no ${subset} hosts`, {
        hint: "`job <id>` shows how each host ended; try `rerun <job> all`",
      });
    const text = withHosts(job.text, hosts);
    ctx.command = parseCommand(text, registry);
    ctx.commandText = text;
    ctx.rerunOf = id;
    await next();
  };
}
