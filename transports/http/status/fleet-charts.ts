/**
 * The fleet view's charts: nodes counted by a fact (`role`, `os`), drawn on the server as
 * horizontal SVG bar charts through the escaping {@link html} tag, so they need no script and
 * carry no inline style (colours come from status.css classes).
 */
import type { NodeInfo } from "../../../executors/fleet/index.ts";
import { html, type SafeHtml } from "./html.ts";

/** The facts the fleet view charts, with their captions. */
export const CHARTED_FACTS: readonly (readonly [fact: string, caption: string])[] = [
  ["role", "Nodes by role"],
  ["os", "Nodes by os"],
];
/** The label of nodes that lack the fact. */
export const NO_FACT = "(none)";
/** The label of the values folded together beyond {@link MAX_BARS}. */
export const OTHER = "(other)";
/** Most bars a chart draws; the smallest values beyond are folded into {@link OTHER}. */
export const MAX_BARS = 10;

const WIDTH = 440;
const LABEL_WIDTH = 150;
const VALUE_WIDTH = 44;
const ROW_HEIGHT = 24;
const BAR_HEIGHT = 16;
const PAD = 4;
/** Longest label drawn; longer ones end in `…` (the tooltip has them whole). */
const MAX_LABEL_CHARS = 18;

/** One bar: a fact value and how many nodes have it. */
export type Count = readonly [label: string, count: number];

/**
 * Nodes counted by the value of `fact` (missing: {@link NO_FACT}), most first then by name, at
 * most {@link MAX_BARS} bars (the rest summed as {@link OTHER}).
 */
export function countBy(nodes: readonly NodeInfo[], fact: string): Count[] {
  const counts = new Map<string, number>();
  for (const n of nodes) {
    const v = n.facts[fact];
    const label = v === undefined || v === "" ? NO_FACT : v;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  const sorted = [...counts].sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  if (sorted.length <= MAX_BARS) return sorted;
  const rest = sorted.slice(MAX_BARS - 1).reduce((sum, [, n]) => sum + n, 0);
  return [...sorted.slice(0, MAX_BARS - 1), [OTHER, rest]];
}

function shorten(label: string): string {
  return label.length > MAX_LABEL_CHARS ? `${label.slice(0, MAX_LABEL_CHARS - 1)}…` : label;
}

const nodesText = (n: number) => `${n} node${n === 1 ? "" : "s"}`;

/** A `<figure>` with a horizontal bar chart of `counts`, captioned `caption`. */
export function barChart(id: string, caption: string, counts: readonly Count[]): SafeHtml {
  const max = Math.max(1, ...counts.map(([, n]) => n));
  const span = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const height = Math.max(1, counts.length) * ROW_HEIGHT + PAD;
  const described = counts.map(([label, n]) => `${label}: ${n}`).join(", ");
  const bars = counts.map(([label, n], i) => {
    const y = PAD + i * ROW_HEIGHT;
    const w = ((n / max) * span).toFixed(1);
    const middle = y + BAR_HEIGHT / 2;
    return html`<g class="bar" data-label="${label}" data-count="${n}">
      <title>${label}: ${nodesText(n)}</title>
      <text class="label" x="${LABEL_WIDTH - 8}" y="${middle}">${shorten(label)}</text>
      <rect class="fill" x="${LABEL_WIDTH}" y="${y}" width="${w}" height="${BAR_HEIGHT}"></rect>
      <text class="value" x="${(LABEL_WIDTH + Number(w) + 6).toFixed(1)}" y="${middle}">${n}</text>
    </g>`;
  });
  return html`<figure class="chart bars" id="${id}">
    <figcaption>${caption}</figcaption>
    <svg
      viewBox="0 0 ${WIDTH} ${height}"
      width="${WIDTH}"
      height="${height}"
      role="img"
      aria-label="${caption}: ${described === "" ? "no nodes" : described}"
    >
      <title>${caption}</title>
      ${bars}
    </svg>
  </figure>`;
}

/** The fleet view's charts of `nodes`, one per {@link CHARTED_FACTS} entry. */
export function fleetCharts(nodes: readonly NodeInfo[]): SafeHtml {
  if (nodes.length === 0) return html``;
  const charts = CHARTED_FACTS.map(([fact, caption]) =>
    barChart(`chart-${fact}`, caption, countBy(nodes, fact)),
  );
  return html`<section class="charts fleet-charts">${charts}</section>`;
}
