/**
 * Pure formatting of command results for a voice assistant: one short spoken sentence with
 * the aggregate, and a card with a line per host or item.
 */
import type { CommandResult } from "../../bot/contract.ts";
import type { FleetResult, HostResult } from "../../executors/fleet/index.ts";

/** What to say and what to show. */
export interface Spoken {
  readonly speech: string;
  readonly cardTitle: string;
  readonly cardLines: readonly string[];
}

/** Host names spoken before summarising the rest as "and N more". */
const MAX_SPOKEN_NAMES = 3;
const PLAIN_WORD = /^[a-z0-9_-]+$/i;

function plural(n: number, one: string, many = `${one}s`): string {
  return n === 1 ? one : many;
}

/** Speakable names: first DNS labels when those are unique among `all`, else full names. */
function spokenNames(hosts: readonly HostResult[], all: readonly HostResult[]): string {
  const short = (h: string) => h.split(".")[0] ?? h;
  const unique = new Set(all.map((h) => short(h.hostname))).size === all.length;
  const names = hosts.map((h) => (unique ? short(h.hostname) : h.hostname));
  const head = names.slice(0, MAX_SPOKEN_NAMES).join(", ");
  const rest = names.length - MAX_SPOKEN_NAMES;
  return rest > 0 ? `${head} and ${rest} more` : head;
}

/** `web servers` for `where role=web`, else `servers`. */
function serverNoun(result: FleetResult, count: number): string {
  const keys = Object.keys(result.where);
  const role = result.where["role"];
  const noun = plural(count, "server");
  return keys.length === 1 && role !== undefined && PLAIN_WORD.test(role)
    ? `${role} ${noun}`
    : noun;
}

/** The one-minute load average of an uptime output (`averages: ["0.42", …]`), when readable. */
function oneMinuteLoad(host: HostResult): { text: string; value: number } | undefined {
  const averages = host.output?.["averages"];
  const first: unknown = Array.isArray(averages) ? averages[0] : undefined;
  if (typeof first !== "string" && typeof first !== "number") return undefined;
  const value = Number(first);
  return Number.isFinite(value) ? { text: String(first), value } : undefined;
}

function highestLoad(result: FleetResult, ok: readonly HostResult[]): string | undefined {
  if (result.provider !== "uptime") return undefined;
  let best: { host: HostResult; text: string; value: number } | undefined;
  for (const host of ok) {
    const load = oneMinuteLoad(host);
    if (load !== undefined && (best === undefined || load.value > best.value))
      best = { host, ...load };
  }
  return best && `the highest load is ${best.text} on ${spokenNames([best.host], result.hosts)}`;
}

/** Speech and card for a fleet result. */
export function fleetSpeech(result: FleetResult): Spoken {
  const by = (...s: HostResult["status"][]) => result.hosts.filter((h) => s.includes(h.status));
  const [ok, failed, silent] = [by("ok"), by("failed"), by("no_ack", "no_result", "absent")];
  const total = result.summary.expected;
  const clauses: string[] = [];
  if (total === 0 && result.hosts.length === 0) {
    clauses.push(`No ${serverNoun(result, 2)} matched`);
  } else {
    clauses.push(`${ok.length + failed.length} of ${total} ${serverNoun(result, total)} answered`);
    const load = highestLoad(result, ok);
    if (load !== undefined) clauses.push(load);
    if (failed.length > 0)
      clauses.push(`${failed.length} failed: ${spokenNames(failed, result.hosts)}`);
    if (silent.length > 0)
      clauses.push(`${silent.length} did not answer: ${spokenNames(silent, result.hosts)}`);
  }
  const where = Object.entries(result.where).map(([k, v]) => `${k}=${v}`);
  return {
    speech: clauses.join("; ") + ".",
    cardTitle: [
      "fleet",
      result.provider,
      ...result.args,
      ...(where.length ? ["where", ...where] : []),
    ].join(" "),
    cardLines: result.hosts.map((h) => `${h.hostname}: ${h.status.replace("_", " ")} — ${h.short}`),
  };
}

/** Speech and card for any command result. */
export function resultSpeech(result: CommandResult): Spoken {
  switch (result.kind) {
    case "fleet":
      return fleetSpeech(result.fleet);
    case "nodes":
      return {
        speech: `${result.nodes.length} ${plural(result.nodes.length, "node is", "nodes are")} registered.`,
        cardTitle: "nodes",
        cardLines: result.nodes.map((n) =>
          n.absent === true
            ? `${n.hostname} (absent: ${n.detail ?? "no heartbeat"})`
            : `${n.hostname} (${n.version}, last seen ${n.lastSeen})`,
        ),
      };
    case "text":
      return {
        speech: result.title ?? result.lines[0] ?? "Done.",
        cardTitle: result.title ?? "result",
        cardLines: result.lines,
      };
    case "data":
      return { speech: result.title, cardTitle: result.title, cardLines: result.lines };
  }
}
