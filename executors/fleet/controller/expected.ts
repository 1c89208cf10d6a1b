/**
 * Who one request waits for. The truth is the set of accepted hosts (controller-signed
 * acceptances, known_hosts, certificates), never what agents wrote in the registry: every
 * accepted host whose facts — live, or last verified when it is silent (last-known.ts) — match
 * the filter is expected, and one whose facts are unknown is expected unless the filter names
 * nothing but hostnames it does not match. Agents evaluate the filter themselves and answer
 * `noop` when it does not select them, so a wrong prediction costs a wait, never a host: an
 * accepted host that answers unpredicted is part of the answer (collector.ts).
 */
import { selectNodes, type MatchSpec } from "../agent/matcher.ts";
import type { NodeInfo } from "../types.ts";

/** The fact every node has: its hostname. */
const HOSTNAME_FACT = "hostname";

/** One request's expected hosts. */
export interface ExpectedPlan {
  /** Hostnames awaited, in the order of the accepted list (by hostname). */
  readonly hosts: string[];
  /** Expected hosts without a fresh registration, with why: silent, they end `absent`. */
  readonly absent: ReadonlyMap<string, string>;
  /** How many hosts are accepted at all (for the no-match message). */
  readonly accepted: number;
  /** Every fact name the accepted hosts have (for "did you mean"). */
  readonly factNames: ReadonlySet<string>;
}

/** True when `match` looks at no fact but `hostname` (and the identity list). */
function onlyHostnames(match: MatchSpec): boolean {
  return (
    Object.keys(match.node_facts).every((k) => k === HOSTNAME_FACT) &&
    (match.filters ?? []).every((f) => f.fact === HOSTNAME_FACT)
  );
}

/**
 * The plan for `match` over the accepted hosts; `factsUnknown` tells hosts accepted but never
 * seen. Every node is matched under one budget (matcher.ts), so a costly filter is refused.
 */
export function expectedPlan(
  match: MatchSpec,
  accepted: readonly NodeInfo[],
  factsUnknown: (hostname: string) => boolean,
): ExpectedPlan {
  const known: NodeInfo[] = [];
  const unknown: NodeInfo[] = [];
  const factNames = new Set<string>();
  for (const n of accepted) {
    if (factsUnknown(n.hostname)) unknown.push(n);
    else {
      known.push(n);
      for (const k of Object.keys(n.facts)) factNames.add(k);
    }
  }
  const selected = new Set(selectNodes(match, known));
  if (unknown.length > 0) {
    // A host never seen has only its hostname to go by: judged on it when the filter names
    // nothing else (and on the identity list), awaited otherwise.
    const by = onlyHostnames(match)
      ? match
      : { all: false, node_facts: {}, ...(match.identity ? { identity: match.identity } : {}) };
    for (const n of selectNodes(by, unknown)) selected.add(n);
  }
  const hosts: string[] = [];
  const absent = new Map<string, string>();
  for (const n of accepted) {
    if (!selected.has(n)) continue;
    hosts.push(n.hostname);
    if (n.absent === true) absent.set(n.hostname, n.detail ?? "absent");
  }
  return { hosts, absent, accepted: accepted.length, factNames };
}
