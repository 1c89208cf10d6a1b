/**
 * A request whose filter matches no accepted host is refused before anything is published:
 * an answer of "0/0 hosts ok" reads as success to a script and to a person, and a typo such as
 * `rol=web` deserves to be told so, with the fact names the fleet does have.
 */
import { CommodoreError } from "../../../lib/errors.ts";
import type { FactFilter, TargetRefinement } from "../types.ts";

/** Most fact names a suggestion considers (a fleet's distinct fact names are few). */
const MAX_SUGGESTION_NAMES = 1_000;
/** Largest edit distance a fact name may be from the one asked for to be suggested. */
const MAX_SUGGESTION_DISTANCE = 2;

/** The filter as an operator would type it: `role=web cpus>=4 --hosts a,b`. */
export function filterText(where: FactFilter, refine: TargetRefinement = {}): string {
  const parts = [
    ...Object.entries(where).map(([k, v]) => `${k}=${v}`),
    ...(refine.filters ?? []).map((f) => `${f.fact}${f.op === "==" ? "=" : f.op}${f.value}`),
  ];
  if (refine.identities) parts.push(`--hosts ${refine.identities.join(",")}`);
  return parts.length === 0 ? "(all hosts)" : parts.join(" ");
}

/** Levenshtein distance, stopping early past `limit`. */
function distance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const v = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      row.push(v);
      best = Math.min(best, v);
    }
    if (best > limit) return limit + 1;
    prev = row;
  }
  return prev[b.length] ?? limit + 1;
}

/** `role` for `rol`, when a known fact name is close to one the filter names but no host has. */
function suggestion(
  where: FactFilter,
  refine: TargetRefinement,
  known: ReadonlySet<string>,
): string | undefined {
  const asked = [...Object.keys(where), ...(refine.filters ?? []).map((f) => f.fact)];
  const names = [...known].slice(0, MAX_SUGGESTION_NAMES);
  for (const name of asked) {
    if (known.has(name)) continue;
    let best: { name: string; d: number } | undefined;
    for (const candidate of names) {
      const d = distance(name, candidate, MAX_SUGGESTION_DISTANCE);
      if (d <= MAX_SUGGESTION_DISTANCE && (best === undefined || d < best.d))
        best = { name: candidate, d };
    }
    if (best) {
      const value = where[name] ?? refine.filters?.find((f) => f.fact === name)?.value ?? "…";
      return `did you mean ${best.name}=${value}?`;
    }
  }
  return undefined;
}

/** No accepted host matches the request's filter; nothing was published. */
export class NoMatchError extends CommodoreError {
  constructor(
    where: FactFilter,
    refine: TargetRefinement,
    accepted: number,
    knownFacts: ReadonlySet<string>,
  ) {
    const text = filterText(where, refine);
    const hint =
      accepted === 0
        ? "no host is accepted yet: start an agent, then `nodes pending` and `nodes accept <host>`"
        : (suggestion(where, refine, knownFacts) ??
          `none of the ${accepted} accepted hosts has facts that match; \`nodes\` lists hosts and their facts`);
    super("E_NO_MATCH", `no accepted host matches ${text}; nothing was sent`, { hint });
  }
}
