/**
 * The per-request matching budget, end to end on real agents and a real controller: a costly
 * regex is refused by the controller before anything is published, and an agent that receives
 * one anyway (signed by the controller key, straight onto the bus) answers `noop`.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { REQUEST_NAMESPACE } from "../../executors/fleet/protocol/channels.ts";
import {
  DEFAULT_MATCH_BUDGET_STEPS,
  FilterTooCostlyError,
} from "../../executors/fleet/protocol/match-budget.ts";
import type { FactCondition } from "../../executors/fleet/types.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { waitFor } from "../harness/ports.ts";
import { context, names, requestPayload, signedWith, spy } from "./helpers.ts";

/** Nested counted repetition: about 5 700 Pike VM steps per character of the fact. */
const COSTLY = "(?:(?:.?){100}){19}y";
/** A long fact the costly regex does match, at its very end. */
const BLOB = `${"x".repeat(1_000)}y`;
const costly: FactCondition = { fact: "blob", op: "=~", value: COSTLY };

describe("filter budget on a real fleet", () => {
  let fleet: TestFleet;
  let wire: Awaited<ReturnType<typeof spy>>;

  before(async () => {
    fleet = await startFleet([
      { hostname: "big1", facts: { role: "web", blob: BLOB } },
      { hostname: "web1", facts: { role: "web" } },
    ]);
    wire = await spy(fleet.redis.url);
  });
  after(async () => {
    await wire.close();
    await fleet.stop();
  });

  test("the controller refuses a costly expected set before publishing anything", async () => {
    const controller = fleet.controller();
    await waitFor("both hosts registered", async () => (await controller.nodes()).length === 2);
    assert.deepEqual(
      await controller.expectedHosts({}, { filters: [{ fact: "blob", op: "=~", value: "y$" }] }),
      ["big1"],
    );
    await wire.listen(names.requests);
    const published = wire.messages(names.requests).length;
    const refused = (err: unknown) => {
      assert.ok(err instanceof FilterTooCostlyError, String(err));
      assert.equal(err.code, "E_FILTER_TOO_COSTLY");
      assert.equal(err.term, `blob=/${COSTLY}/`);
      assert.equal(err.budget, DEFAULT_MATCH_BUDGET_STEPS);
      assert.match(err.message, /blob=\/\(\?:\(\?:\.\?\)\{100\}\)\{19\}y\//);
      return true;
    };
    await assert.rejects(controller.expectedHosts({}, { filters: [costly, costly] }), refused);
    await assert.rejects(
      controller.execute(
        { provider: "ping", args: [], where: { role: "web" }, filters: [costly, costly] },
        context(),
      ),
      refused,
    );
    assert.equal(wire.messages(names.requests).length, published, "nothing was published");
  });

  test("an agent handed a costly request anyway answers noop instead of stalling", async () => {
    const agent = fleet.agents.get("big1");
    assert.ok(agent);
    const handled = () =>
      agent.metrics.counter("commodore_fleet_agent_requests_total", "").get({ outcome: "noop" });
    const before = handled();
    const p = requestPayload({
      match: { all: false, node_facts: {}, filters: [costly, costly] },
    });
    await wire.listen(p.reply_to);
    await wire.client.publish(
      names.requests,
      signedWith(fleet.controllerKey.privatePath, REQUEST_NAMESPACE, p),
    );
    await waitFor("big1 answered noop", () =>
      wire.messages(p.reply_to).some((m) => m.includes("big1") && m.includes("noop")),
    );
    assert.equal(handled(), before + 1);
    assert.ok(
      fleet.logLines.some((l) => l.includes("request filter too costly")),
      "the agent logs the refusal",
    );
    assert.ok(!wire.messages(p.reply_to).some((m) => m.includes("big1") && m.includes("start")));
  });
});
