/**
 * `commodore fleet <provider> [args…]`: signs a request, waits for the accepted hosts the filter
 * matches (refusing at once, exit 2, when it matches none), and prints the original protocol's progress lines: one `host: short` line per host as
 * it finishes (a live status line on a terminal's stderr, see cli/live-progress.ts), then the
 * summary. Exit 0 only when every expected host answered ok.
 */
import { NoMatchError, type FleetRequest, type FleetResult } from "../../executors/fleet/index.ts";
import { parseAmount } from "../../bot/commands/options.ts";
import { fleetOk, problemCounts } from "../../bot/format/fleet.ts";
import { groupHeadline, outputGroups } from "../../bot/format/outliers.ts";
import type { CliCommand, CliIo } from "../command.ts";
import { parseFlags } from "../command.ts";
import { liveProgress } from "../live-progress.ts";
import { parsePositiveInt } from "./agent-flags.ts";
import {
  CONTROLLER_FLAGS,
  CONTROLLER_FLAGS_HELP,
  openController,
  whereFlags,
} from "../controller.ts";
import { EXIT_UNAVAILABLE, InvalidArgumentError, MissingArgumentError } from "../errors.ts";

const NAME = "fleet";
/** Exit code when some host failed, stayed silent, was not started or was cancelled. */
export const EXIT_HOSTS_FAILED = 1;
/** Exit code when no host matched the filter. */
export const EXIT_NO_HOSTS = 2;

function amountFlag(flag: string, value: string | undefined) {
  if (value === undefined) return undefined;
  const amount = parseAmount(value);
  if (!amount) throw new InvalidArgumentError(NAME, flag, "N or N% (1-100)", value);
  return amount;
}

/** Targeting and rollout fields from the flags. */
function targeting(values: {
  where?: string[];
  hosts?: string;
  limit?: string;
  batch?: string;
  "batch-wait"?: string;
  "stop-after-failures"?: string;
}): Omit<FleetRequest, "provider" | "args"> {
  const clause = whereFlags(NAME, values.where ?? []);
  const limit = amountFlag("--limit", values.limit);
  const size = amountFlag("--batch", values.batch);
  const waitS = values["batch-wait"] === undefined ? undefined : Number(values["batch-wait"]);
  if (waitS !== undefined && !(Number.isInteger(waitS) && waitS >= 0))
    throw new InvalidArgumentError(
      NAME,
      "--batch-wait",
      "seconds (0 or more)",
      values["batch-wait"] ?? "",
    );
  const stop = parsePositiveInt(NAME, "--stop-after-failures", values["stop-after-failures"]);
  if (size === undefined && (waitS !== undefined || stop !== undefined))
    throw new InvalidArgumentError(
      NAME,
      "--batch",
      "a batch size with --batch-wait/--stop-after-failures",
      "nothing",
    );
  const hosts = values.hosts?.split(",").filter((h) => h !== "");
  return {
    where: clause.where,
    ...(clause.filters.length > 0 ? { filters: clause.filters } : {}),
    ...(hosts ? { identities: hosts } : {}),
    ...(limit ? { limit } : {}),
    ...(size
      ? {
          batch: {
            size,
            ...(waitS ? { waitMs: waitS * 1_000 } : {}),
            ...(stop === undefined ? {} : { stopAfterFailures: stop }),
          },
        }
      : {}),
  };
}

/** Lines of each group's output shown by `--group`. */
const GROUP_PREVIEW_LINES = 3;

/** Hosts folded into groups of identical outcome, minorities first; with `diff`, how each differs. */
function groupLines(result: FleetResult, diff: boolean): string[] {
  return outputGroups(result).flatMap((g) => [
    groupHeadline(g),
    ...(diff && g.diff !== undefined
      ? g.diff.map((d) => `  ${d}`)
      : g.text
          .split("\n")
          .slice(0, GROUP_PREVIEW_LINES)
          .filter((l) => l !== "")
          .map((l) => `  ${l}`)),
  ]);
}

/** The summary line, e.g. `3/3 hosts ok in 12 ms` (with the non-ok counts appended). */
function summaryLine(r: FleetResult): string {
  const s = r.summary;
  const extra = [
    ...problemCounts(s),
    ...(s.noop > 0 ? [`${s.noop} noop`] : []),
    ...((s.skipped ?? 0) > 0 ? [`${s.skipped} skipped`] : []),
  ];
  return `${s.ok}/${s.expected} hosts ok in ${s.durationMs} ms${extra.length > 0 ? ` (${extra.join(", ")})` : ""}`;
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(NAME, argv, {
    ...CONTROLLER_FLAGS,
    where: { type: "string", multiple: true },
    hosts: { type: "string" },
    limit: { type: "string" },
    batch: { type: "string" },
    "batch-wait": { type: "string" },
    "stop-after-failures": { type: "string" },
    "ack-timeout": { type: "string" },
    timeout: { type: "string" },
    json: { type: "boolean" },
    group: { type: "boolean" },
    diff: { type: "boolean" },
  });
  const [provider, ...args] = positionals;
  const grouped = values.group === true || values.diff === true;
  if (provider === undefined)
    throw new MissingArgumentError(NAME, "provider (e.g. ping, uptime, facts)");
  const target = targeting(values);
  const ackTimeoutMs = parsePositiveInt(NAME, "--ack-timeout", values["ack-timeout"]) ?? 2_000;
  const execTimeoutMs = parsePositiveInt(NAME, "--timeout", values.timeout);
  const controller = openController(NAME, values, io, { ackTimeoutMs });
  const { executor } = controller;
  try {
    const unavailable = await controller.ready();
    if (unavailable !== undefined) {
      io.stderr(`commodore: ${unavailable}\n`);
      return EXIT_UNAVAILABLE;
    }
    const live = values.json ? undefined : liveProgress(io, ackTimeoutMs, { hostLines: !grouped });
    let result: FleetResult;
    try {
      result = await executor.execute(
        { provider, args, ...target, ...(execTimeoutMs ? { execTimeoutMs } : {}) },
        {
          jobId: "cli",
          principalId: io.env["USER"] ?? "cli",
          signal: io.signal,
          progress: live?.onProgress ?? (() => undefined),
        },
      );
    } catch (err) {
      live?.end();
      // Refused before anything was published: said at once, with the documented exit code.
      if (!(err instanceof NoMatchError)) throw err;
      io.stderr(`commodore: ${err.describe()} [${err.code}]\n`);
      return EXIT_NO_HOSTS;
    }
    live?.end();
    if (values.json)
      io.stdout(`${JSON.stringify({ ...result, groups: outputGroups(result) }, null, 2)}\n`);
    else {
      if (grouped)
        for (const line of groupLines(result, values.diff === true)) io.stdout(`${line}\n`);
      const s = result.summary;
      io.stdout(`got ${s.acked}/${s.expected} positive acknowledgements\n`);
      io.stdout(`got ${result.replies.length} responses\n`);
      if (result.stoppedReason) io.stdout(`rollout ${result.stoppedReason}\n`);
      io.stdout(`${summaryLine(result)}\n`);
    }
    return fleetOk(result.summary) ? 0 : EXIT_HOSTS_FAILED;
  } finally {
    await controller.close();
  }
}

/** The `fleet` subcommand. */
export const command: CliCommand = {
  name: NAME,
  usage: `Usage: commodore fleet <provider> [args…] [options]

Signs a request with the controller key, broadcasts it, and waits for the hosts the
registry expects. Providers: ping, uptime, facts [name…], and where agents configure them
service <unit> <action>, exec <name> [args…], pull, log <name> [lines].

Options:
${CONTROLLER_FLAGS_HELP}
  --where TERM          fact filter, repeatable, AND-ed: key=glob, key!=glob, key=/regex/,
                        key<N key<=N key>N key>=N (e.g. --where role=web --where 'cpus>=4')
  --hosts a,b,c         only these hostnames
  --limit N|N%          only the first N (or N%) matching hosts by name
  --batch N|N%          sliding window: at most N hosts at once, one starts as one finishes
  --batch-wait S        pause S seconds before a freed slot starts the next host
  --stop-after-failures N  start no new host after N failed hosts
  --ack-timeout MS      wait this long for acknowledgements (default 2000)
  --timeout MS          execution timeout after the ack (default per provider)
  --group               fold hosts with identical output into groups, minorities first
  --diff                like --group, showing how each minority differs from the majority
  --json                print the structured result as JSON (with its groups)

Exit status: 0 all hosts ok, 1 some host failed or stayed silent, 2 no host matched.`,
  run,
};
