/**
 * `jobs [count] [cursor]` and `job <id>`: recent jobs' summaries, a page at a time, and one
 * job's state, events and result. Both are reads that touch no host, so neither creates a job.
 */
import { JOB_ID } from "../../../executors/provision/index.ts";
import { BadArgumentError, NotFoundError } from "../errors.ts";
import { provisionJobLines } from "../../format/provision.ts";
import { JOB_CURSOR_PATTERN } from "../../jobs/redis-store.ts";
import type { JobRecord, JobStore, JobSummary } from "../../jobs/types.ts";
import type { ProvisionPort } from "../../provision-port.ts";
import type { CommandSpec, RunContext, RunOutcome } from "../types.ts";

/** Jobs `jobs` lists when no count is given. */
export const DEFAULT_JOBS_LISTED = 10;
/** Most jobs one `jobs` (or `GET /jobs`) lists: the hard cap of a page. */
export const MAX_JOBS_LISTED = 100;

type JobLineFields = Pick<
  JobSummary,
  "id" | "state" | "text" | "principal" | "transport" | "createdAt"
>;

/** `j3fa9c01b7e42 succeeded fleet uptime (alice via http, 2026-…)` */
function jobLine(job: JobLineFields): string {
  return `${job.id} ${job.state} ${job.text} (${job.principal} via ${job.transport}, ${job.createdAt})`;
}

/** The result's own lines for short results (text, data: e.g. a provisioning recap). */
function resultLinesOf(job: JobRecord): readonly string[] {
  const result = job.result;
  return result !== undefined && (result.kind === "text" || result.kind === "data")
    ? result.lines
    : [];
}

/** Creates the `jobs` command. */
export function jobsCommand(store: JobStore): CommandSpec {
  return {
    name: "jobs",
    aliases: [],
    summary: "list recent jobs (summaries; a page at a time)",
    usage: `jobs [count] [cursor]`,
    examples: ["jobs", "jobs 50", "jobs 50 1767225600000-j3fa9c01b7e42"],
    args: [
      {
        name: "count",
        kind: "int",
        required: false,
        min: 1,
        max: MAX_JOBS_LISTED,
        help: `how many jobs to list (default ${DEFAULT_JOBS_LISTED}, at most ${MAX_JOBS_LISTED})`,
      },
      {
        name: "cursor",
        kind: "word",
        required: false,
        help: "continue after the previous page (its `next` cursor)",
      },
    ],
    takesWhere: false,
    permission: "grant",
    risk: () => "read",
    async run(ctx: RunContext): Promise<RunOutcome> {
      const count = ctx.command.args["count"];
      const cursor = ctx.command.args["cursor"];
      if (cursor !== undefined && !JOB_CURSOR_PATTERN.test(String(cursor)))
        throw new BadArgumentError(
          `cursor: expected a cursor from a previous page, found "${String(cursor).slice(0, 40)}"`,
          "say `jobs <count> <cursor>` with the cursor the previous page ended with",
        );
      const limit = Math.min(
        typeof count === "number" ? count : DEFAULT_JOBS_LISTED,
        MAX_JOBS_LISTED,
      );
      const page = await store.page(limit, cursor === undefined ? undefined : String(cursor));
      const lines = page.jobs.length === 0 ? ["no jobs"] : page.jobs.map(jobLine);
      return {
        ok: true,
        result: {
          kind: "data",
          title: "recent jobs",
          data: page,
          lines:
            page.nextCursor === undefined
              ? lines
              : [...lines, `more: jobs ${limit} ${page.nextCursor}`],
        },
      };
    },
  };
}

async function provisionJob(port: ProvisionPort | undefined, id: string): Promise<RunOutcome> {
  const job = await port?.job(id);
  if (!job)
    throw new NotFoundError(
      `no provisioning job ${id}`,
      "provisioning jobs are kept for 7 days after they finish",
    );
  return {
    ok: true,
    result: {
      kind: "data",
      title: `job ${id}`,
      data: { provision: job },
      lines: provisionJobLines(job),
    },
  };
}

/** Creates the `job` command; `prov-N` ids are looked up in the provisioning queue. */
export function jobCommand(store: JobStore, provision?: ProvisionPort): CommandSpec {
  return {
    name: "job",
    aliases: [],
    summary: "show one job: state, progress events and result",
    usage: "job <id>",
    examples: ["job j3fa9c01b7e42", "job prov-12"],
    args: [
      {
        name: "id",
        kind: "word",
        required: true,
        help: "the job id the bot replied with, or a provisioning job (prov-12)",
      },
    ],
    takesWhere: false,
    permission: "grant",
    risk: () => "read",
    async run(ctx: RunContext): Promise<RunOutcome> {
      const id = String(ctx.command.args["id"]);
      if (JOB_ID.test(id)) return await provisionJob(provision, id);
      const job = await store.get(id);
      if (!job)
        throw new NotFoundError(
          `no job ${id}`,
          "jobs expire after a while; `jobs` lists recent ones",
        );
      const events = await store.events(id);
      return {
        ok: true,
        result: {
          kind: "data",
          title: `job ${id}`,
          data: { job, events },
          lines: [jobLine(job), `${events.length} events`, ...resultLinesOf(job)],
        },
      };
    },
  };
}
