/**
 * Outliers: a fleet result folded into groups of hosts with identical outcomes (status, exit
 * and full output), minority groups first, each with a line diff against the majority's
 * output, so the three hosts that differ from forty do not drown in forty identical lines.
 * Transport-neutral: IRC, the CLI (`--group`, `--diff`) and JSON answers use it.
 */
import type { FleetResult, HostResult, HostStatus } from "../../executors/fleet/index.ts";
import { collapseRuns, naturalCompare } from "./hostnames.ts";

/** Most diff lines kept per group. */
export const MAX_DIFF_LINES = 20;
/** Most cells the line diff's table may have; larger outputs are compared line by line. */
const MAX_DIFF_CELLS = 250_000;

/** Hosts whose outcome is identical. */
export interface OutputGroup {
  /** Hostnames, in natural order. */
  readonly hosts: readonly string[];
  /** The hostnames collapsed into ranges: `www01..www40, db1`. */
  readonly label: string;
  readonly status: HostStatus;
  readonly exit?: number;
  /** The output compared: the provider's stdout when it has one, else its one-line summary. */
  readonly text: string;
  /** Lines of `text`. */
  readonly lines: number;
  /** True for the largest group (the one the others are compared with). */
  readonly majority: boolean;
  /** Minority groups: `-` majority line, `+` this group's line, at most {@link MAX_DIFF_LINES}. */
  readonly diff?: readonly string[];
}

function textOf(h: HostResult): string {
  const stdout = h.output?.["stdout"];
  return typeof stdout === "string" && stdout !== "" ? stdout.replace(/\n$/, "") : h.short;
}

/** A line diff (longest common subsequence): `-` lines only in `a`, `+` lines only in `b`. */
export function lineDiff(a: string, b: string, max = MAX_DIFF_LINES): string[] {
  const x = a.split("\n");
  const y = b.split("\n");
  const out: string[] = [];
  if (x.length * y.length > MAX_DIFF_CELLS) {
    for (let i = 0; i < Math.max(x.length, y.length) && out.length < max; i++)
      if (x[i] !== y[i])
        out.push(
          ...(x[i] === undefined ? [] : [`-${x[i]}`]),
          ...(y[i] === undefined ? [] : [`+${y[i]}`]),
        );
    return out.slice(0, max);
  }
  const lcs: number[][] = Array.from({ length: x.length + 1 }, () =>
    new Array<number>(y.length + 1).fill(0),
  );
  for (let i = x.length - 1; i >= 0; i--)
    for (let j = y.length - 1; j >= 0; j--)
      (lcs[i] as number[])[j] =
        x[i] === y[j]
          ? ((lcs[i + 1] as number[])[j + 1] as number) + 1
          : Math.max((lcs[i + 1] as number[])[j] as number, (lcs[i] as number[])[j + 1] as number);
  let i = 0;
  let j = 0;
  while ((i < x.length || j < y.length) && out.length < max) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      i++;
      j++;
    } else if (
      j < y.length &&
      (i >= x.length ||
        ((lcs[i] as number[])[j + 1] as number) > ((lcs[i + 1] as number[])[j] as number))
    ) {
      out.push(`+${y[j++] as string}`);
    } else {
      out.push(`-${x[i++] as string}`);
    }
  }
  return out;
}

/** How much of {@link outputGroups} to compute. */
export interface OutputGroupOptions {
  /**
   * How many minority groups (smallest first) get their `diff`; the rest are listed without
   * one. For callers that show only the first few (default: every group).
   */
  readonly diffs?: number;
}

/** The groups of `result`: minorities first (smallest first), the majority last. */
export function outputGroups(result: FleetResult, options: OutputGroupOptions = {}): OutputGroup[] {
  const diffs = options.diffs ?? Number.POSITIVE_INFINITY;
  const byKey = new Map<
    string,
    { status: HostStatus; exit?: number; text: string; hosts: string[] }
  >();
  for (const h of result.hosts) {
    const text = textOf(h);
    const key = JSON.stringify([h.status, h.exit ?? null, text]);
    const g = byKey.get(key) ?? {
      status: h.status,
      ...(h.exit === undefined ? {} : { exit: h.exit }),
      text,
      hosts: [],
    };
    g.hosts.push(h.hostname);
    byKey.set(key, g);
  }
  const groups = [...byKey.values()].sort(
    (a, b) => a.hosts.length - b.hosts.length || naturalCompare(a.hosts[0] ?? "", b.hosts[0] ?? ""),
  );
  const majority = groups.at(-1);
  return groups.map((g, index) => {
    const hosts = [...g.hosts].sort(naturalCompare);
    const label = collapseRuns(hosts.map((hostname) => ({ hostname, text: "" })))
      .map((r) => r.label)
      .join(", ");
    const isMajority = g === majority;
    return {
      hosts,
      label,
      status: g.status,
      ...(g.exit === undefined ? {} : { exit: g.exit }),
      text: g.text,
      lines: g.text === "" ? 0 : g.text.split("\n").length,
      majority: isMajority,
      ...(isMajority || majority === undefined || index >= diffs
        ? {}
        : { diff: lineDiff(majority.text, g.text) }),
    };
  });
}

/** `www01..www40: ok, 3 lines` for one group. */
export function groupHeadline(g: OutputGroup): string {
  const what =
    g.status === "failed" ? `failed (exit ${g.exit ?? "?"})` : g.status.replace("_", " ");
  return `${g.label}: ${what}, ${g.lines} line${g.lines === 1 ? "" : "s"}${g.majority ? "" : " (differs from the majority)"}`;
}
