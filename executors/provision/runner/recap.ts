/**
 * Reading the `json` stdout callback of ansible-playbook: the recap of our one host and a
 * short line per task for the log. Output is treated as untrusted: anything malformed yields
 * `undefined` rather than an exception.
 */
import type { Recap } from "../types.ts";

/** One task's result for the host. */
export interface TaskLine {
  readonly task: string;
  readonly status: "ok" | "changed" | "failed" | "unreachable" | "skipped";
  readonly msg?: string;
}

/** What we take from the JSON report. */
export interface PlaybookReport {
  readonly recap: Recap;
  readonly tasks: readonly TaskLine[];
}

const MAX_MSG = 500;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/** Extracts the JSON object from stdout (warnings may precede it). */
function parseJson(stdout: string): Obj | undefined {
  const start = stdout.indexOf("{");
  if (start < 0) return undefined;
  try {
    const parsed: unknown = JSON.parse(stdout.slice(start));
    return isObj(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function taskLine(name: string, result: Obj): TaskLine {
  const status: TaskLine["status"] =
    result["unreachable"] === true
      ? "unreachable"
      : result["failed"] === true
        ? "failed"
        : result["skipped"] === true
          ? "skipped"
          : result["changed"] === true
            ? "changed"
            : "ok";
  const msg = typeof result["msg"] === "string" ? result["msg"].slice(0, MAX_MSG) : undefined;
  return msg === undefined ? { task: name, status } : { task: name, status, msg };
}

function tasksOf(report: Obj, host: string): TaskLine[] {
  const lines: TaskLine[] = [];
  const plays = Array.isArray(report["plays"]) ? report["plays"] : [];
  for (const play of plays) {
    if (!isObj(play) || !Array.isArray(play["tasks"])) continue;
    for (const task of play["tasks"]) {
      if (!isObj(task) || !isObj(task["hosts"])) continue;
      const result = task["hosts"][host];
      const meta = isObj(task["task"]) ? task["task"] : {};
      const name = typeof meta["name"] === "string" ? meta["name"] : "(unnamed)";
      if (isObj(result)) lines.push(taskLine(name, result));
    }
  }
  return lines;
}

/** Parses the report for `host`; undefined when stdout holds no usable report for it. */
export function parseReport(stdout: string, host: string): PlaybookReport | undefined {
  const report = parseJson(stdout);
  const stats = report && isObj(report["stats"]) ? report["stats"][host] : undefined;
  if (!report || !isObj(stats)) return undefined;
  return {
    recap: {
      ok: num(stats["ok"]),
      changed: num(stats["changed"]),
      unreachable: num(stats["unreachable"]),
      failed: num(stats["failures"]),
      skipped: num(stats["skipped"]),
      rescued: num(stats["rescued"]),
      ignored: num(stats["ignored"]),
    },
    tasks: tasksOf(report, host),
  };
}

/** `ok=3 changed=1 unreachable=0 failed=0 skipped=0`. */
export function formatRecap(recap: Recap): string {
  return `ok=${recap.ok} changed=${recap.changed} unreachable=${recap.unreachable} failed=${recap.failed} skipped=${recap.skipped}`;
}
