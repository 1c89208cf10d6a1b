/**
 * The outlier view of a fleet result on IRC. When most hosts agree, the hosts that do not come
 * first, one line per group of identical outcomes with a few lines of how it differs, then one
 * line for the majority (`www01..www40: ok, 3 lines`). Groups come from {@link outputGroups},
 * as for the CLI's `--group` and the status page. Every part is bounded, so a 500-host result
 * stays a short reply (or a short `more`).
 */
import type { FleetResult, HostStatus } from "../../../executors/fleet/index.ts";
import { collapseRuns } from "../../../bot/format/hostnames.ts";
import { lineDiff, outputGroups, type OutputGroup } from "../../../bot/format/outliers.ts";
import { outcomeText, plural, statusText } from "./outcome.ts";

/** The largest group needs at least this many hosts to count as a majority. */
const MIN_MAJORITY_HOSTS = 3;
/** Diff lines shown under one minority group. */
export const MAX_DIFF_LINES_SHOWN = 4;
/** Output lines shown under a minority group whose status differs from the majority's. */
const MAX_OUTPUT_LINES_SHOWN = 3;
/** Minority groups shown with diff or output lines; later groups get their headline only. */
export const MAX_DETAILED_GROUPS = 5;
/** Host names or ranges named in one group's label before the rest are only counted. */
const MAX_LABEL_PARTS = 6;
/** Characters kept of one diff or output line. */
export const MAX_DETAIL_CHARS = 200;
/** Marks diff and output lines as belonging to the headline above them. */
const INDENT = "  ";
const ELLIPSIS = "…";
/** Statuses whose output is the provider's own, so that a different output is news. */
const RAN_TO_COMPLETION: ReadonlySet<HostStatus> = new Set(["ok", "failed"]);

/** Lines of the outlier view, and what the status counts alone would not tell. */
export interface OutlierView {
  readonly lines: readonly string[];
  /**
   * Hosts that ended like the majority (both `ok`, or both `failed`) but with other output: the
   * outliers a summary of status counts would hide.
   */
  readonly hiddenOutliers: number;
}

/**
 * The largest group when it is a clear majority: no other group as large, at least
 * {@link MIN_MAJORITY_HOSTS} hosts and at least half of all hosts. Undefined for a single group
 * (nothing differs) and for a mixed result (comparing with an arbitrary group helps nobody).
 */
function clearMajority(groups: readonly OutputGroup[]): OutputGroup | undefined {
  const majority = groups.at(-1);
  const runnerUp = groups.at(-2);
  if (majority === undefined || runnerUp === undefined) return undefined;
  const size = majority.hosts.length;
  const total = groups.reduce((n, g) => n + g.hosts.length, 0);
  const clear = size >= MIN_MAJORITY_HOSTS && size > runnerUp.hosts.length && 2 * size >= total;
  return clear ? majority : undefined;
}

/** Keeps `max` items, or all of them when only one more would have been cut. */
function keepCount(total: number, max: number): number {
  return total <= max + 1 ? total : max;
}

/** The group's hostnames as ranges, at most {@link MAX_LABEL_PARTS} of them, then a count. */
function label(g: OutputGroup): string {
  const runs = collapseRuns(g.hosts.map((hostname) => ({ hostname, text: "" })));
  const shown = runs.slice(0, keepCount(runs.length, MAX_LABEL_PARTS));
  const rest = runs.slice(shown.length).reduce((n, r) => n + r.count, 0);
  const names = shown.map((r) => r.label).join(", ");
  return rest === 0 ? names : `${names} and ${plural(rest, "more host")}`;
}

/** True when the group's outcome fits its headline: no complete reply, or one line of output. */
function fitsOneLine(g: OutputGroup): boolean {
  return g.exit === undefined || g.lines <= 1;
}

/** `www07, www19: ok, 3 lines`, or the whole outcome when it fits: `db1: failed (exit 3): broken`. */
function headline(g: OutputGroup): string {
  const what = fitsOneLine(g)
    ? outcomeText(g.status, g.exit, g.text)
    : `${statusText(g.status, g.exit)}, ${plural(g.lines, "line")}`;
  return `${label(g)}: ${what}`;
}

/** `line`, or its first {@link MAX_DETAIL_CHARS} characters ending in `…`. */
function clip(line: string): string {
  const chars = Array.from(line);
  return chars.length <= MAX_DETAIL_CHARS
    ? line
    : `${chars.slice(0, MAX_DETAIL_CHARS - 1).join("")}${ELLIPSIS}`;
}

/** At most `max` indented lines, then `… N more <noun>s` for the rest. */
function bounded(lines: readonly string[], max: number, noun: string): string[] {
  const shown = lines.slice(0, keepCount(lines.length, max)).map((l) => INDENT + clip(l));
  const rest = lines.length - shown.length;
  return rest === 0 ? shown : [...shown, `${INDENT}${ELLIPSIS} ${plural(rest, `more ${noun}`)}`];
}

/**
 * What is shown under a minority group's headline: its diff against the majority (`-` majority
 * line, `+` this group's line) when both ended the same way, otherwise — a failure among
 * successes, say — the group's own first lines, since a diff against unrelated output would
 * show mostly the majority's lines.
 */
function details(g: OutputGroup, majority: OutputGroup): string[] {
  if (fitsOneLine(g)) return [];
  if (g.status === majority.status)
    return bounded(
      lineDiff(majority.text, g.text, Number.POSITIVE_INFINITY),
      MAX_DIFF_LINES_SHOWN,
      "diff line",
    );
  const own = g.text.split("\n").filter((l) => l.trim() !== "");
  return bounded(own, MAX_OUTPUT_LINES_SHOWN, "line");
}

/** Each minority group's headline; the first {@link MAX_DETAILED_GROUPS} with details. */
function minorityLines(minorities: readonly OutputGroup[], majority: OutputGroup): string[] {
  let detailed = 0;
  return minorities.flatMap((g) => {
    const more = detailed < MAX_DETAILED_GROUPS ? details(g, majority) : [];
    if (more.length > 0) detailed += 1;
    return [headline(g), ...more];
  });
}

/** Hosts of `minorities` that ended like the majority, ran to completion, and said otherwise. */
function hiddenOutliers(minorities: readonly OutputGroup[], majority: OutputGroup): number {
  const hidden = (g: OutputGroup) =>
    RAN_TO_COMPLETION.has(g.status) && g.status === majority.status && g.text !== majority.text;
  return minorities.filter(hidden).reduce((n, g) => n + g.hosts.length, 0);
}

/**
 * The outlier view of `result`: minority groups (smallest first) with their differences, then
 * the majority's line. Undefined when there is no clear majority to compare with.
 */
export function outlierView(result: FleetResult): OutlierView | undefined {
  // The view computes its own (longer, counted) diffs for the groups it details.
  const groups = outputGroups(result, { diffs: 0 });
  const majority = clearMajority(groups);
  if (majority === undefined) return undefined;
  const minorities = groups.slice(0, -1);
  return {
    lines: [...minorityLines(minorities, majority), headline(majority)],
    hiddenOutliers: hiddenOutliers(minorities, majority),
  };
}
