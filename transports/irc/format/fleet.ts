/**
 * Formats a finished fleet request for IRC: one line per host (identical results collapsed
 * into ranges) and a summary line.
 */
import type { FleetResult, HostResult } from "../../../executors/fleet/index.ts";
import { problemCounts } from "../../../bot/format/fleet.ts";
import { collapseRuns, naturalCompare } from "../../../bot/format/hostnames.ts";

/** Result lines plus the one-line summary used when the full text is too long for a channel. */
export interface FormattedResult {
  readonly lines: readonly string[];
  readonly summary: string;
}

const MS_PER_SECOND = 1_000;

function hostText(host: HostResult): string {
  const short = host.short.trim();
  switch (host.status) {
    case "ok":
      return short === "" ? "ok" : short;
    case "failed": {
      const label = host.exit === undefined ? "failed" : `failed (exit ${host.exit})`;
      return short === "" ? label : `${label}: ${short}`;
    }
    case "no_ack":
      return short === "" ? "no acknowledgement" : `no acknowledgement: ${short}`;
    case "no_result":
      return short === "" ? "acknowledged, no result" : `no result: ${short}`;
    case "unexpected":
      return short === "" ? "unexpected reply" : `unexpected reply: ${short}`;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The summary line, e.g. `uptime on 5 hosts: 4 ok, 1 failed (1.2 s)`. */
function fleetSummary(result: FleetResult): string {
  const s = result.summary;
  const command = [result.provider, ...result.args].join(" ");
  const seconds = `${(s.durationMs / MS_PER_SECOND).toFixed(1)} s`;
  const noop = s.noop > 0 ? `, ${s.noop} did not match` : "";
  if (result.hosts.length === 0) return `${command}: no host answered${noop} (${seconds})`;
  const parts = [...(s.ok > 0 ? [`${s.ok} ok`] : []), ...problemCounts(s)];
  return `${command} on ${plural(result.hosts.length, "host")}: ${parts.join(", ")}${noop} (${seconds})`;
}

/** Formats a fleet result as per-host lines (runs collapsed) followed by the summary. */
export function formatFleetResult(result: FleetResult): FormattedResult {
  const items = [...result.hosts]
    .sort((a, b) => naturalCompare(a.hostname, b.hostname))
    .map((h) => ({ hostname: h.hostname, text: hostText(h) }));
  const summary = fleetSummary(result);
  const lines = collapseRuns(items).map((g) => `${g.label}: ${g.text}`);
  return { lines: [...lines, summary], summary };
}
