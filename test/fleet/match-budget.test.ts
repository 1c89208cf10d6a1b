/**
 * The one fact matcher's cost, measured in steps rather than time: globs stay within
 * (pattern + 1) × (text + 1) steps per match, the Pike VM within its program size per
 * character, and a request's steps over every node are bounded by its budget.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { matchesNode, selectNodes, type MatchSpec } from "../../executors/fleet/agent/matcher.ts";
import { compileGlob } from "../../executors/fleet/protocol/glob.ts";
import {
  DEFAULT_MATCH_BUDGET_STEPS,
  FilterTooCostlyError,
  MatchBudget,
} from "../../executors/fleet/protocol/match-budget.ts";
import { compileSafeRegex } from "../../executors/fleet/protocol/regex.ts";
import type { FactCondition } from "../../executors/fleet/types.ts";

const OS = "Debian GNU/Linux 12 (bookworm)";
const NODES = Array.from({ length: 1_000 }, (_, i) => ({
  facts: { hostname: `www${i}.example.com`, os: OS, cpus: String(1 + (i % 16)) },
}));
const glob = (facts: Record<string, string>): MatchSpec => ({ all: false, node_facts: facts });
const where = (...filters: FactCondition[]): MatchSpec => ({
  all: false,
  node_facts: {},
  filters,
});
/** Nodes with at least `n` cpus. */
const withCpus = (n: number) => NODES.filter((node) => Number(node.facts.cpus) >= n).length;
/** Steps a request spends over {@link NODES}. */
function steps(match: MatchSpec): { steps: number; selected: number } {
  const budget = new MatchBudget(Number.MAX_SAFE_INTEGER);
  const selected = selectNodes(match, NODES, budget).length;
  return { steps: budget.spent, selected };
}

describe("glob cost", () => {
  test("`*?` runs cost linear steps, not exponential ones", () => {
    const pattern = (pairs: number) => `${"*?".repeat(pairs)}!`;
    const bound = (p: string) => NODES.length * (p.length + 1) * (OS.length + 1);
    const twelve = steps(glob({ os: pattern(12) }));
    const twentyFour = steps(glob({ os: pattern(24) }));
    assert.equal(twelve.selected, 0);
    assert.equal(twentyFour.selected, 0);
    assert.ok(twelve.steps <= bound(pattern(12)), `${twelve.steps} steps`);
    // A backtracking engine triples its work with every extra `*?`; this one does not grow.
    assert.ok(twentyFour.steps <= 2 * twelve.steps, `${twentyFour.steps} vs ${twelve.steps}`);
  });

  test("a single match never exceeds (pattern + 1) × (text + 1) steps", () => {
    for (const [p, t] of [
      ["*a*a*a*a*a*a*a*a*b", "a".repeat(2_000)],
      ["*?*?*?*?*?*?*?*?*?*?*?*!", "x".repeat(1_000)],
      ["[a-z]*[0-9]?*z", "abc".repeat(300)],
    ] as const) {
      let spent = 0;
      assert.equal(
        compileGlob(p).matches(t, (n) => (spent += n)),
        false,
      );
      assert.ok(spent <= (p.length + 1) * (t.length + 1), `${p}: ${spent} steps`);
      assert.ok(spent > 0);
    }
  });
});

describe("regex cost and the per-request budget", () => {
  test("the compile limits bound the cost per character, not per node", () => {
    // At most 256 characters and counts up to 100 still compile to thousands of instructions,
    // each visited at most twice per character: the cost grows with the fact's length.
    const re = compileSafeRegex("(?:(?:.?){100}){19}#");
    const per = (text: string) => {
      let spent = 0;
      re.test(text, (n) => (spent += n));
      return spent;
    };
    const short = per("x".repeat(10));
    const long = per("x".repeat(100));
    assert.ok(long > 9 * short, `${long} vs ${short}`);
    assert.ok(long <= 101 * 2 * 4_096, `${long} steps`);
  });

  test("a costly regex over 1000 nodes stops at the budget, naming the term and the budget", () => {
    const budget = new MatchBudget();
    const term: FactCondition = { fact: "os", op: "=~", value: "(?:(?:.?){100}){19}#" };
    assert.throws(
      () => selectNodes(where(term), NODES, budget),
      (err: unknown) =>
        err instanceof FilterTooCostlyError &&
        err.code === "E_FILTER_TOO_COSTLY" &&
        err.term === "os=/(?:(?:.?){100}){19}#/" &&
        err.budget === DEFAULT_MATCH_BUDGET_STEPS &&
        err.message.includes(String(DEFAULT_MATCH_BUDGET_STEPS)),
    );
    // It stops within one character position of the limit (at most two visits per instruction).
    assert.ok(budget.spent > DEFAULT_MATCH_BUDGET_STEPS);
    assert.ok(budget.spent <= DEFAULT_MATCH_BUDGET_STEPS + 2 * 4_096, `${budget.spent}`);
  });

  test("ordinary terms over 1000 nodes use a small share of the budget", () => {
    const used = steps({
      all: false,
      node_facts: { hostname: "www*" },
      filters: [
        { fact: "hostname", op: "=~", value: "^www\\d+\\.example\\.com$" },
        { fact: "cpus", op: ">=", value: "8" },
        { fact: "os", op: "!=", value: "*bullseye*" },
      ],
    });
    assert.equal(used.selected, withCpus(8));
    assert.ok(used.steps < DEFAULT_MATCH_BUDGET_STEPS / 50, `${used.steps} steps`);
  });

  test("cheap terms run first: a selective glob spares the regex most nodes", () => {
    const costly: FactCondition = { fact: "os", op: "=~", value: "(?:(?:.?){100}){19}#" };
    const one = { all: false, node_facts: { hostname: "www7.example.com" }, filters: [costly] };
    assert.deepEqual(selectNodes(one, NODES), []);
  });

  test("an agent's single match has its own default budget", () => {
    const facts = { hostname: "big1", blob: `${"x".repeat(1_000)}y` };
    const costly: FactCondition = { fact: "blob", op: "=~", value: "(?:(?:.?){100}){19}y" };
    assert.equal(matchesNode(where(costly), facts), true);
    assert.throws(() => matchesNode(where(costly, costly), facts), FilterTooCostlyError);
    assert.throws(() => matchesNode(where(costly), facts, new MatchBudget(1_000)), /1000/);
  });

  test("numeric filters select by the fact's leading number", () => {
    assert.equal(steps(where({ fact: "cpus", op: ">=", value: "100000" })).selected, 0);
    assert.equal(steps(where({ fact: "cpus", op: ">=", value: "16" })).selected, withCpus(16));
  });
});
