/**
 * Does a request's `match` select this node? `all: true` selects every node. Otherwise every
 * `node_facts` entry must glob-match the fact of that name (a missing fact never matches), every
 * `filters` condition must hold, and when `identity` is present the hostname must match one of
 * its patterns. This is the one fact matcher: agents, the controller's expected set, `nodes`
 * (chat, HTTP, CLI), `nodes accept --all-matching` and the status page all call it.
 *
 * Globs run on the linear-time matcher of protocol/glob.ts and regexes on the Pike VM of
 * protocol/regex.ts; every step either spends is charged to one {@link MatchBudget} per request,
 * so a hostile term is refused with `E_FILTER_TOO_COSTLY` instead of stalling the process.
 * Cheap terms are evaluated first (globs, the identity list, numbers, then regexes), so a
 * selective `role=web` spares the regexes most nodes.
 */
import { globMatch } from "../protocol/glob.ts";
import { MatchBudget, type StepMeter } from "../protocol/match-budget.ts";
import type { RequestMessage } from "../protocol/messages.ts";
import { safeRegexMatch } from "../protocol/regex.ts";
import type { FactCondition } from "../types.ts";

/** The selector part of a request. */
export type MatchSpec = RequestMessage["match"];

/** Facts of one node (they include `hostname`). */
type Facts = Readonly<Record<string, string>>;

const NUMBER = /^-?\d+(?:\.\d+)?$/;
const LEADING_NUMBER = /^\s*(-?\d+(?:\.\d+)?)/;

function compare(op: FactCondition["op"], fact: string, value: string): boolean {
  if (!NUMBER.test(value)) return false;
  const m = LEADING_NUMBER.exec(fact);
  if (!m) return false;
  const a = Number(m[1]);
  const b = Number(value);
  if (op === "<") return a < b;
  if (op === "<=") return a <= b;
  if (op === ">") return a > b;
  return a >= b;
}

function factOf(facts: Facts, name: string): string | undefined {
  return Object.hasOwn(facts, name) ? facts[name] : undefined;
}

/** A condition as the user wrote it, for error messages: `role!=db`, `hostname=/^www/`. */
function termOf(cond: FactCondition): string {
  if (cond.op === "=~") return `${cond.fact}=/${cond.value}/`;
  return `${cond.fact}${cond.op === "==" ? "=" : cond.op}${cond.value}`;
}

/**
 * True when `facts` satisfy one condition. A missing fact satisfies nothing. `meter` is charged
 * the glob or regex steps spent.
 */
export function conditionHolds(cond: FactCondition, facts: Facts, meter?: StepMeter): boolean {
  const fact = factOf(facts, cond.fact);
  if (fact === undefined) return false;
  switch (cond.op) {
    case "==":
      return globMatch(cond.value, fact, meter);
    case "!=":
      return !globMatch(cond.value, fact, meter);
    case "=~":
      return safeRegexMatch(cond.value, fact, meter);
    default:
      return compare(cond.op, fact, cond.value);
  }
}

/**
 * Compiles `match` into a test that charges `budget`; use one budget for every node a request
 * evaluates.
 */
export function nodeSelector(match: MatchSpec, budget: MatchBudget): (facts: Facts) => boolean {
  if (match.all) return () => true;
  const tests: ((facts: Facts) => boolean)[] = [];
  for (const [name, pattern] of Object.entries(match.node_facts)) {
    const meter = budget.meter(`${name}=${pattern}`);
    tests.push((facts) => {
      const value = factOf(facts, name);
      return value !== undefined && globMatch(pattern, value, meter);
    });
  }
  const identity = match.identity;
  if (identity !== undefined) {
    const meter = budget.meter(`hostname in a list of ${identity.length} hosts`);
    tests.push((facts) => {
      const host = factOf(facts, "hostname") ?? "";
      return identity.some((pattern) => globMatch(pattern, host, meter));
    });
  }
  const filters = match.filters ?? [];
  const ordered = [
    ...filters.filter((c) => c.op !== "=~"),
    ...filters.filter((c) => c.op === "=~"),
  ];
  for (const cond of ordered) {
    const meter = budget.meter(termOf(cond));
    tests.push((facts) => conditionHolds(cond, facts, meter));
  }
  return (facts) => tests.every((test) => test(facts));
}

/**
 * True when `facts` (which include `hostname`) satisfy `match`. An agent calls this once per
 * request, so the default fresh budget bounds the request.
 */
export function matchesNode(
  match: MatchSpec,
  facts: Facts,
  budget: MatchBudget = new MatchBudget(),
): boolean {
  return nodeSelector(match, budget)(facts);
}

/**
 * The nodes `match` selects, in their order, charging every match to one `budget` (by default
 * a fresh one with the default limit): the expected set of one request, one `nodes` listing.
 * Throws `FilterTooCostlyError` when the terms cost more than the budget.
 */
export function selectNodes<T extends { readonly facts: Facts }>(
  match: MatchSpec,
  nodes: readonly T[],
  budget: MatchBudget = new MatchBudget(),
): T[] {
  const selects = nodeSelector(match, budget);
  return nodes.filter((n) => selects(n.facts));
}
