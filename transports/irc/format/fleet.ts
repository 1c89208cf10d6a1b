/**
 * Formats a finished fleet request for IRC, followed by a summary line. When most hosts agree,
 * the outlier view: the hosts that differ first, then the majority's line. Otherwise — all
 * hosts alike, or no clear majority — one line per host, identical results collapsed into
 * ranges.
 */
import type { FleetResult, HostResult } from "../../../executors/fleet/index.ts";
import { problemCounts } from "../../../bot/format/fleet.ts";
import { collapseRuns, naturalCompare } from "../../../bot/format/hostnames.ts";
import { outcomeText, plural } from "./outcome.ts";
import { outlierView } from "./outliers.ts";

/** Result lines plus the one-line summary used when the full text is too long for a channel. */
export interface FormattedResult {
  readonly lines: readonly string[];
  readonly summary: string;
}

const MS_PER_SECOND = 1_000;

function hostText(host: HostResult): string {
  return outcomeText(host.status, host.exit, host.short);
}

/** `; output differs on 3 hosts` when the status counts hide outliers, else nothing. */
function outlierNote(hidden: number): string {
  return hidden === 0 ? "" : `; output differs on ${plural(hidden, "host")}`;
}

/** The summary line, e.g. `uptime on 5 hosts: 4 ok, 1 failed (1.2 s)`. */
function fleetSummary(result: FleetResult, hiddenOutliers: number): string {
  const s = result.summary;
  const command = [result.provider, ...result.args].join(" ");
  const seconds = `${(s.durationMs / MS_PER_SECOND).toFixed(1)} s`;
  const noop = s.noop > 0 ? `, ${s.noop} did not match` : "";
  if (result.hosts.length === 0) return `${command}: no host answered${noop} (${seconds})`;
  const parts = [...(s.ok > 0 ? [`${s.ok} ok`] : []), ...problemCounts(s)];
  const counts = `${parts.join(", ")}${noop}${outlierNote(hiddenOutliers)}`;
  return `${command} on ${plural(result.hosts.length, "host")}: ${counts} (${seconds})`;
}

/** One line per host in natural order, contiguous identical results collapsed into ranges. */
function hostLines(result: FleetResult): string[] {
  const items = [...result.hosts]
    .sort((a, b) => naturalCompare(a.hostname, b.hostname))
    .map((h) => ({ hostname: h.hostname, text: hostText(h) }));
  return collapseRuns(items).map((g) => `${g.label}: ${g.text}`);
}

/** Formats a fleet result as the outlier view or per-host lines, followed by the summary. */
export function formatFleetResult(result: FleetResult): FormattedResult {
  const view = outlierView(result);
  const summary = fleetSummary(result, view?.hiddenOutliers ?? 0);
  const lines = view?.lines ?? hostLines(result);
  return { lines: [...lines, summary], summary };
}
