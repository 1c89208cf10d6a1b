/** Human time spans for the pages. */

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** `4 s`, `3 min`, `2 h`, `5 d` for a span in milliseconds (negative spans count as 0). */
export function span(ms: number): string {
  const v = Math.max(0, ms);
  if (v < MINUTE) return `${Math.floor(v / SECOND)} s`;
  if (v < HOUR) return `${Math.floor(v / MINUTE)} min`;
  if (v < DAY) return `${Math.floor(v / HOUR)} h`;
  return `${Math.floor(v / DAY)} d`;
}

/** `4 s ago` for an ISO time relative to `now` (ms); `unknown` for unparsable times. */
export function ago(iso: string, now: number): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? "unknown" : `${span(now - t)} ago`;
}
