/**
 * The fleet command's options and how a parsed command becomes a {@link FleetRequest}:
 * `--limit N|N%`, `--batch N|N%`, `--batch-wait SECONDS`, `--stop-after-failures N` and
 * `--hosts a,b,c` (exact hostnames).
 */
import type {
  BatchPlan,
  FleetRequest,
  HostAmount,
  TargetRefinement,
} from "../../../executors/fleet/index.ts";
import { BadArgumentError } from "../errors.ts";
import type { OptionSpec, ParsedCommand } from "../types.ts";

const MAX_BATCH_WAIT_SECONDS = 3_600;
const MAX_FAILURES = 1_000_000;
const MS_PER_SECOND = 1_000;

/** Options the fleet command declares. */
export const FLEET_OPTIONS: readonly OptionSpec[] = [
  { name: "limit", kind: "amount", help: "run on the first N (or N%) matching hosts by name" },
  { name: "batch", kind: "amount", help: "at most N (or N%) hosts at once, sliding window" },
  {
    name: "batch-wait",
    kind: "int",
    min: 0,
    max: MAX_BATCH_WAIT_SECONDS,
    help: "seconds to pause before a freed batch slot starts the next host",
  },
  {
    name: "stop-after-failures",
    kind: "int",
    min: 1,
    max: MAX_FAILURES,
    help: "start no new host once this many hosts failed",
  },
  { name: "hosts", kind: "list", help: "only these hostnames (comma-separated)" },
];

function amount(cmd: ParsedCommand, name: string): HostAmount | undefined {
  const v = cmd.options?.[name];
  return typeof v === "object" && !Array.isArray(v) ? (v as HostAmount) : undefined;
}

function int(cmd: ParsedCommand, name: string): number | undefined {
  const v = cmd.options?.[name];
  return typeof v === "number" ? v : undefined;
}

/** The conditions and identity list a parsed fleet command targets. */
export function refinementOf(cmd: ParsedCommand): TargetRefinement {
  const hosts = cmd.options?.["hosts"];
  return {
    ...(cmd.filters && cmd.filters.length > 0 ? { filters: cmd.filters } : {}),
    ...(Array.isArray(hosts) ? { identities: hosts as readonly string[] } : {}),
  };
}

/** The request's `limit` and `batch`; batch-only options without `--batch` are an error. */
export function rolloutOf(cmd: ParsedCommand): Pick<FleetRequest, "limit" | "batch"> {
  const limit = amount(cmd, "limit");
  const size = amount(cmd, "batch");
  const waitSeconds = int(cmd, "batch-wait");
  const stopAfterFailures = int(cmd, "stop-after-failures");
  if (size === undefined && (waitSeconds !== undefined || stopAfterFailures !== undefined))
    throw new BadArgumentError(
      "--batch-wait and --stop-after-failures only apply with --batch",
      "e.g. `fleet service nginx restart --batch 2 --stop-after-failures 1`",
    );
  const batch: BatchPlan | undefined =
    size === undefined
      ? undefined
      : {
          size,
          ...(waitSeconds ? { waitMs: waitSeconds * MS_PER_SECOND } : {}),
          ...(stopAfterFailures === undefined ? {} : { stopAfterFailures }),
        };
  return { ...(limit ? { limit } : {}), ...(batch ? { batch } : {}) };
}
