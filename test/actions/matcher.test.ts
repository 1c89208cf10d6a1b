import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { matchesNode, conditionHolds } from "../../executors/fleet/agent/matcher.ts";
import { matchFor } from "../../executors/fleet/controller/controller.ts";
import { limitHosts, resolveAmount } from "../../executors/fleet/controller/rollout.ts";
import type { FactCondition } from "../../executors/fleet/types.ts";

const web = {
  hostname: "www12.example.com",
  role: "web",
  env: "prod",
  cpus: "8",
  memory: "4096 MiB",
};
const cond = (fact: string, op: FactCondition["op"], value: string) => ({ fact, op, value });

describe("fact conditions", () => {
  test("!= is a negated glob; a missing fact satisfies nothing", () => {
    assert.equal(conditionHolds(cond("env", "!=", "prod"), web), false);
    assert.equal(conditionHolds(cond("env", "!=", "stag*"), web), true);
    assert.equal(conditionHolds(cond("zone", "!=", "x"), web), false);
    assert.equal(conditionHolds(cond("constructor", "==", "*"), web), false);
  });

  test("numeric comparisons use the fact's leading number", () => {
    assert.equal(conditionHolds(cond("cpus", ">=", "8"), web), true);
    assert.equal(conditionHolds(cond("cpus", ">", "8"), web), false);
    assert.equal(conditionHolds(cond("memory", "<", "8192"), web), true);
    assert.equal(conditionHolds(cond("memory", "<=", "1e9"), web), false);
    assert.equal(conditionHolds(cond("role", ">", "1"), web), false);
  });

  test("=~ is a safe regex search", () => {
    assert.equal(conditionHolds(cond("hostname", "=~", "^www\\d+\\."), web), true);
    assert.equal(conditionHolds(cond("hostname", "=~", "^db"), web), false);
    assert.equal(conditionHolds(cond("hostname", "=~", "(?=w)"), web), false);
  });
});

describe("match specs", () => {
  test("controller and agent use the same spec: globs, filters and escaped identities", () => {
    const m = matchFor(
      { role: "web" },
      { filters: [cond("cpus", ">=", "4")], identities: ["www12.example.com", "db[1]"] },
    );
    assert.equal(m.all, false);
    assert.deepEqual(m.identity, ["www12.example.com", "db\\[1\\]"]);
    assert.equal(matchesNode(m, web), true);
    assert.equal(matchesNode(m, { ...web, hostname: "db1" }), false);
    assert.equal(matchesNode(m, { ...web, hostname: "db[1]" }), true);
    assert.equal(matchesNode(matchFor({}, { filters: [cond("cpus", "<", "4")] }), web), false);
    assert.equal(matchFor({}).all, true);
    assert.equal(matchesNode(matchFor({}, { identities: [] }), web), false);
  });

  test("limit amounts: counts cap, percentages round up, order is by hostname", () => {
    assert.equal(resolveAmount({ count: 5 }, 3), 3);
    assert.equal(resolveAmount({ percent: 10 }, 3), 1);
    assert.equal(resolveAmount({ percent: 50 }, 5), 3);
    assert.equal(resolveAmount({ percent: 50 }, 0), 0);
    assert.deepEqual(limitHosts(["c", "a", "b"], { count: 2 }), ["a", "b"]);
    assert.deepEqual(limitHosts(["c", "a"], undefined), ["c", "a"]);
  });
});
