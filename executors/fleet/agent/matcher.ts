/**
 * Does a request's `match` select this node? `all: true` selects every node. Otherwise every
 * `node_facts` entry must glob-match the fact of that name (a missing fact never matches), every
 * `filters` condition must hold, and when `identity` is present the hostname must match one of
 * its patterns. The controller predicts its expected hosts with this same function.
 */
import { globMatch } from "../protocol/glob.ts";
import type { RequestMessage } from "../protocol/messages.ts";
import { safeRegexMatch } from "../protocol/regex.ts";
import type { FactCondition } from "../types.ts";

/** The selector part of a request. */
export type MatchSpec = RequestMessage["match"];

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

/** True when `facts` satisfy one condition. A missing fact satisfies nothing. */
export function conditionHolds(
  cond: FactCondition,
  facts: Readonly<Record<string, string>>,
): boolean {
  const fact = Object.hasOwn(facts, cond.fact) ? facts[cond.fact] : undefined;
  if (fact === undefined) return false;
  switch (cond.op) {
    case "==":
      return globMatch(cond.value, fact);
    case "!=":
      return !globMatch(cond.value, fact);
    case "=~":
      return safeRegexMatch(cond.value, fact);
    default:
      return compare(cond.op, fact, cond.value);
  }
}

/** True when `facts` (which include `hostname`) satisfy `match`. */
export function matchesNode(match: MatchSpec, facts: Readonly<Record<string, string>>): boolean {
  if (match.all) return true;
  for (const [name, pattern] of Object.entries(match.node_facts)) {
    const value = Object.hasOwn(facts, name) ? facts[name] : undefined;
    if (value === undefined || !globMatch(pattern, value)) return false;
  }
  for (const cond of match.filters ?? []) if (!conditionHolds(cond, facts)) return false;
  if (match.identity !== undefined) {
    const host = facts["hostname"] ?? "";
    return match.identity.some((pattern) => globMatch(pattern, host));
  }
  return true;
}
