import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { builtinRegistry, checkGrants } from "../../bot/commands/builtins/index.ts";
import { parseCommand } from "../../bot/commands/parse.ts";
import { Policy, type PolicyConfig } from "../../bot/permissions/policy.ts";
import type { JobCanceller } from "../../bot/jobs/cancel.ts";
import type { JobStore } from "../../bot/jobs/types.ts";
import type { AuditLog } from "../../bot/audit/log.ts";
import type { Principal } from "../../bot/contract.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import { CommodoreError } from "../../lib/errors.ts";

const config: PolicyConfig = {
  roles: {
    viewer: {
      grants: [
        { command: "fleet", args: { provider: ["ping", "uptime", "facts"] } },
        { command: "nodes" },
      ],
    },
    stager: {
      grants: [{ command: "fleet", args: { provider: "restart" }, where: { env: "staging" } }],
    },
    admin: { grants: [{ command: "*" }] },
    everyone: { grants: [{ command: "jobs" }, { command: "fleet" }] },
  },
  defaultRoles: ["everyone"],
};
const policy = new Policy(config);
const registry = builtinRegistry({
  policy,
  jobs: {} as JobStore,
  canceller: {} as JobCanceller,
  audit: {} as AuditLog,
  fleet: undefined,
  providerRisks: { restart: "change", wipe: "dangerous" },
  confirmTtlSeconds: 300,
  metrics: new MetricsRegistry(),
});
const who = (id: string, roles: string[]): Principal => ({ id, roles, display: id });
const alice = who("alice", ["viewer"]);
const sam = who("sam", ["stager"]);
const root = who("root", ["admin"]);
const anon = who("anonymous", []);

function authorize(p: Principal, text: string) {
  const cmd = parseCommand(text, registry);
  return policy.authorize(p, cmd, cmd.spec.risk(cmd));
}
function denied(p: Principal, text: string, message: RegExp): void {
  assert.throws(
    () => authorize(p, text),
    (e: unknown) =>
      e instanceof CommodoreError && e.code === "E_PERMISSION_DENIED" && message.test(e.message),
  );
}

describe("permission matrix", () => {
  test("allowed", () => {
    assert.deepEqual(authorize(alice, "fleet uptime where role=web").where, { role: "web" });
    assert.equal(authorize(root, "fleet wipe").spec.name, "fleet");
    assert.equal(authorize(alice, "help").spec.name, "help");
    assert.equal(authorize(anon, "jobs").spec.name, "jobs");
  });
  test("refused", () => {
    denied(alice, "fleet restart nginx", /allows provider ping, uptime, facts only, not "restart"/);
    denied(alice, "audit", /may not run "audit"/);
    denied(sam, "fleet wipe", /role stager allows provider restart only/);
    denied(anon, "nodes", /may not run "nodes"/);
  });
  test("default roles authorize read commands only", () => {
    assert.equal(authorize(anon, "fleet ping").spec.name, "fleet");
    denied(anon, "fleet restart nginx", /change commands need a role of your own/);
  });
  test("pinned targets are added and cannot be overridden", () => {
    const cmd = authorize(sam, "fleet restart nginx where role=web");
    assert.deepEqual(cmd.where, { role: "web", env: "staging" });
    assert.deepEqual(authorize(sam, "fleet restart nginx where env=staging").where, {
      env: "staging",
    });
    denied(
      sam,
      "fleet restart nginx where env=prod",
      /limited to env=staging, you asked for env=prod/,
    );
    denied(sam, "fleet restart nginx where env=stag*", /limited to env=staging/);
  });
  test("a single allowed argument value is pinned when omitted", () => {
    const p = new Policy({
      roles: { r: { grants: [{ command: "jobs", args: { count: "5" } }] } },
      defaultRoles: [],
    });
    const cmd = parseCommand("jobs", registry);
    assert.equal(p.authorize(who("x", ["r"]), cmd, "read").args["count"], "5");
    assert.throws(() => p.authorize(who("x", ["r"]), parseCommand("jobs 50", registry), "read"));
  });
  test("help visibility follows grants", () => {
    const visible = (p: Principal) =>
      registry
        .all()
        .filter((s) => policy.mayRun(p, s))
        .map((s) => s.name);
    // Everyone may cancel their own jobs, so `cancel` shows for everyone.
    const own = ["confirm", "rerun", "cancel"];
    assert.deepEqual(visible(alice), ["help", "fleet", "nodes", "jobs", ...own]);
    assert.deepEqual(visible(sam), ["help", "fleet", "jobs", ...own]);
    assert.equal(visible(root).length, registry.all().length);
  });
  test("grants naming unknown commands or arguments are rejected", () => {
    assert.throws(
      () => checkGrants({ r: { grants: [{ command: "flet" }] } }, registry),
      /roles\.r\.grants\[0\]\.command.*found "flet"/,
    );
    assert.throws(
      () =>
        checkGrants({ r: { grants: [{ command: "fleet", args: { provder: "x" } }] } }, registry),
      /roles\.r\.grants\[0\]\.args\.provder/,
    );
  });
});
