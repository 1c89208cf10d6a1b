/**
 * Words for one host's (or one group of hosts') outcome in IRC replies: `ok`,
 * `failed (exit 2): uptime: not found`, `no acknowledgement within 2000 ms`.
 */
import type { HostStatus } from "../../../executors/fleet/index.ts";

/** `1 line`, `3 lines`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The outcome without any output: `ok`, `failed (exit 2)`, `no acknowledgement`, `cancelled`. */
export function statusText(status: HostStatus, exit?: number): string {
  switch (status) {
    case "ok":
      return "ok";
    case "failed":
      return exit === undefined ? "failed" : `failed (exit ${exit})`;
    case "no_ack":
      return "no acknowledgement";
    case "no_result":
      return "no result";
    case "absent":
      return "absent";
    case "cancelled":
      return "cancelled";
  }
}

/**
 * The outcome with its one-line detail: the output itself for `ok`, else the status followed by
 * the detail — or the detail alone when it already says the status (`cancelled by alice`, `no
 * acknowledgement within 2000 ms`), so nothing reads twice.
 */
export function outcomeText(status: HostStatus, exit: number | undefined, detail: string): string {
  const text = detail.trim();
  if (status === "ok") return text === "" ? "ok" : text;
  if (text === "")
    return status === "no_result" ? "acknowledged, no result" : statusText(status, exit);
  const label = statusText(status, exit);
  return text.toLowerCase().includes(label.toLowerCase()) ? text : `${label}: ${text}`;
}
