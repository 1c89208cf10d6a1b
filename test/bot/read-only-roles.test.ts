/**
 * Read-only means read-only (issue 23, item 1): every shipped example configuration is loaded,
 * the command registry is built as `createBot` builds it, every registered command is
 * enumerated with every value of its enumerated arguments, and each role documented as
 * read-only is shown to authorize no `change` or `dangerous` invocation. Then the attack: a
 * viewer of the shipped example tries `nodes revoke` and `nodes accept` through the bot
 * against real agents, and nothing changes.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { parse as parseYaml } from "yaml";
import type { AuditLog } from "../../bot/audit/log.ts";
import { builtinRegistry, checkGrants } from "../../bot/commands/builtins/index.ts";
import { nodesCommand } from "../../bot/commands/builtins/nodes.ts";
import { PermissionDeniedError } from "../../bot/commands/errors.ts";
import type { CommandRegistry } from "../../bot/commands/registry.ts";
import {
  FLAG_SET,
  type ArgSpec,
  type ArgValues,
  type CommandSpec,
  type ParsedCommand,
  type Risk,
} from "../../bot/commands/types.ts";
import type { BotEvent, Principal } from "../../bot/contract.ts";
import type { JobCanceller } from "../../bot/jobs/cancel.ts";
import type { JobStore } from "../../bot/jobs/types.ts";
import { Policy } from "../../bot/permissions/policy.ts";
import { embeddedRawConfig } from "../../config/embedded.ts";
import { loadConfig } from "../../config/load.ts";
import type { Config } from "../../config/schema.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { testBot, who, type TestBot } from "../harness/bot.ts";

const ROOT = join(import.meta.dirname, "..", "..");
/** Directories never searched for shipped configurations. */
const SKIPPED_DIRS = new Set(["node_modules", ".git", "dist", "dist-bench", "coverage", "test"]);
/** Where documentation with configuration examples lives. */
const DOC_DIRS = ["docs", "packaging"];
/** Roles the examples call read-only by name. */
const READ_ONLY_NAME = /^(viewer|reader|watcher|read-?only|.+-(reader|viewer))$/;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return SKIPPED_DIRS.has(e.name) ? [] : walk(join(dir, e.name));
    return e.isFile() ? [join(dir, e.name)] : [];
  });
}

/** One shipped configuration: where it came from, its text and the validated config. */
interface Shipped {
  readonly name: string;
  readonly text: string;
  readonly config: Config;
}

const YAML_BLOCK = /```ya?ml\n([\s\S]*?)```/g;

function shippedConfigs(): Shipped[] {
  const files = walk(ROOT);
  const out: Shipped[] = [];
  for (const file of files.filter((f) => /\.example\.ya?ml$/.test(f))) {
    const text = readFileSync(file, "utf8");
    out.push({ name: relative(ROOT, file), text, config: loadConfig({ file, env: {} }) });
  }
  const docs = files.filter((f) =>
    DOC_DIRS.some((d) => relative(ROOT, f).startsWith(`${d}/`) && /\.(md|ya?ml)$/.test(f)),
  );
  for (const file of docs) {
    const body = readFileSync(file, "utf8");
    const blocks = file.endsWith(".md") ? [...body.matchAll(YAML_BLOCK)].map((m) => m[1]) : [body];
    blocks.forEach((text, i) => {
      if (text === undefined) return;
      const raw = parseYaml(text) as unknown;
      if (typeof raw !== "object" || raw === null || !("roles" in raw)) return;
      out.push({
        name: `${relative(ROOT, file)}#yaml${i}`,
        text,
        config: loadConfig({ defaults: raw as Record<string, unknown>, env: {} }),
      });
    });
  }
  out.push({
    name: "config/embedded.ts (npm start without a configuration)",
    text: "",
    config: loadConfig({ defaults: embeddedRawConfig(), env: {} }),
  });
  return out;
}

/** The registry as `createBot` builds it (stores are never reached by risk or policy). */
function registryOf(config: Config, policy: Policy): CommandRegistry {
  const providerRisks = Object.fromEntries(
    Object.entries(config.bot.providers).map(([name, p]) => [name, p.risk]),
  );
  const registry = builtinRegistry({
    policy,
    jobs: {} as JobStore,
    canceller: {} as JobCanceller,
    audit: {} as AuditLog,
    fleet: undefined,
    providerRisks,
    confirmTtlSeconds: config.bot.confirm.ttlSeconds,
    metrics: new MetricsRegistry(),
  });
  checkGrants(config.roles, registry);
  return registry;
}

/** Roles the configuration documents as read-only: default roles, names, `# read-only` comments. */
function readOnlyRoles(s: Shipped): string[] {
  return Object.keys(s.config.roles).filter(
    (role) =>
      s.config.bot.defaultRoles.includes(role) ||
      READ_ONLY_NAME.test(role) ||
      new RegExp(`^\\s*${role}:\\s*#.*read-only`, "m").test(s.text),
  );
}

/** Sample values of one argument: absent, then every enumerated value or a few samples. */
function samples(arg: ArgSpec): ReadonlyArray<ArgValues[string] | undefined> {
  switch (arg.kind) {
    case "flag":
      return [undefined, FLAG_SET];
    case "int":
      return [undefined, arg.min, arg.max];
    case "rest":
      return [undefined, [], ["web01"], ["nginx", "restart"], ["nginx", "status"], ["x", "y", "z"]];
    case "word":
      return [undefined, ...(arg.choices?.() ?? ["web01", "j0123456789ab"])];
  }
}

/** Every combination of sample values of the command's arguments. */
function invocations(spec: CommandSpec): ParsedCommand[] {
  let combos: Array<Record<string, ArgValues[string]>> = [{}];
  for (const arg of spec.args)
    combos = combos.flatMap((c) =>
      samples(arg).map((v) => (v === undefined ? { ...c } : { ...c, [arg.name]: v })),
    );
  return combos.map((args) => ({ spec, typed: spec.name, args, where: {} }));
}

/** True when `p` cannot change anything with `cmd` asked at `risk`: refused, or a read that stays one. */
function changesNothing(policy: Policy, p: Principal, cmd: ParsedCommand, risk: Risk): boolean {
  try {
    const ok = policy.authorizeGrant(p, cmd, risk);
    // Only a read may pass, and it must stay one after pinned values.
    return risk === "read" && ok.risk === "read" && ok.command.spec.risk(ok.command) === "read";
  } catch (err) {
    if (err instanceof PermissionDeniedError) return true;
    throw err;
  }
}

describe("roles documented as read-only change nothing, in every shipped configuration", () => {
  const shipped = shippedConfigs();

  test("the search finds the shipped configurations and their read-only roles", () => {
    const names = shipped.map((s) => s.name);
    for (const expected of ["config/commodore.example.yaml", "config/minimal.example.yaml"])
      assert.ok(names.includes(expected), names.join(", "));
    const roles = (name: string) => readOnlyRoles(shipped.find((s) => s.name === name)!);
    assert.ok(roles("config/commodore.example.yaml").includes("viewer"));
    assert.ok(roles("config/minimal.example.yaml").includes("reader"));
    assert.ok(roles(names.at(-1) ?? "").includes("local-reader"));
  });

  for (const s of shipped) {
    test(`${s.name}: ${readOnlyRoles(s).join(", ") || "no read-only role"}`, () => {
      const policy = new Policy({ roles: s.config.roles, defaultRoles: s.config.bot.defaultRoles });
      const registry = registryOf(s.config, policy);
      const principals = [
        ...readOnlyRoles(s).map((r) => who(`as-${r}`, [r])),
        who("anonymous"), // default roles only
      ];
      let changes = 0;
      // Commands open to everyone (help, confirm, rerun, cancel) act only through the chain:
      // confirm and rerun authorize the command they run again; cancel of another person's
      // job asks `grants(…, "cancel", "change")`, checked below.
      const granted = registry.all().filter((spec) => spec.permission === "grant");
      for (const spec of granted)
        for (const cmd of invocations(spec)) {
          const risk = spec.risk(cmd);
          if (risk !== "read") changes++;
          for (const p of principals) {
            assert.ok(
              changesNothing(policy, p, cmd, risk),
              `${p.id} may run ${spec.name} ${JSON.stringify(cmd.args)} (${risk})`,
            );
            // Over the host threshold a change is dangerous (and confirm checks again as such);
            // a read stays a read however many hosts it reads.
            if (risk !== "read")
              assert.ok(
                changesNothing(policy, p, cmd, "dangerous"),
                `${p.id} may run ${spec.name} ${JSON.stringify(cmd.args)} as dangerous`,
              );
          }
        }
      for (const p of principals) assert.equal(policy.grants(p, "cancel", "change"), false);
      // Not vacuous: nodes accept/reject/revoke and fleet exec were among the invocations.
      assert.ok(changes > 50, `only ${changes} change invocations enumerated`);
    });
  }

  test("documented operator roles keep what the docs give them", () => {
    const s = shipped.find((x) => x.name === "config/commodore.example.yaml")!;
    const policy = new Policy({ roles: s.config.roles, defaultRoles: s.config.bot.defaultRoles });
    const registry = registryOf(s.config, policy);
    const cmd = (name: string, args: ArgValues): ParsedCommand => ({
      spec: registry.resolve(name),
      typed: name,
      args,
      where: {},
    });
    const ok = (roles: string[], c: ParsedCommand) =>
      policy.authorizeGrant(who("op", roles), c, c.spec.risk(c));
    for (const action of ["accept", "reject", "revoke"])
      assert.equal(ok(["operator"], cmd("nodes", { action, host: "www01" })).risk, "change");
    assert.equal(ok(["operator"], cmd("nodes", {})).command.args["action"], undefined);
    assert.equal(ok(["operator"], cmd("fleet", { provider: "restart" })).risk, "dangerous");
    assert.equal(
      ok(["staging-ops"], cmd("provision", { host: "w1", playbook: "web" })).command.args["check"],
      "yes",
    );
    assert.equal(ok(["admin"], cmd("nodes", { action: "revoke", host: "w1" })).risk, "change");
  });
});

describe("a change subcommand added later is covered without naming it", () => {
  // `nodes` as it will be with `retire` in NODES_ACTIONS as a non-read action.
  const base = nodesCommand(undefined);
  const actions = ["list", "pending", "accept", "reject", "revoke", "retire"];
  const retiring: CommandSpec = {
    ...base,
    args: base.args.map((a) =>
      a.name === "action" && a.kind === "word" ? { ...a, choices: () => actions } : a,
    ),
    risk: (c) =>
      ["list", "pending", undefined].includes(c.args["action"] as string) ? "read" : "change",
  };
  const retire: ParsedCommand = {
    spec: retiring,
    typed: "nodes",
    args: { action: "retire", host: "web01" },
    where: {},
  };
  const policy = new Policy({
    roles: {
      viewer: { grants: [{ command: "nodes" }] },
      retirer: { grants: [{ command: "nodes", args: { action: "retire" } }] },
    },
    defaultRoles: ["viewer"],
  });
  test("a bare grant refuses it, naming the grant to add; a grant naming it allows it", () => {
    assert.throws(
      () => policy.authorize(who("v", ["viewer"]), retire, "change"),
      (e: unknown) =>
        e instanceof PermissionDeniedError &&
        /may not run "nodes retire": role viewer grants nodes for its read uses only/.test(
          e.message,
        ) &&
        /add \{command: nodes, args: \{action: retire\}\}/.test(e.hint ?? ""),
    );
    assert.throws(
      () => policy.authorize(who("anonymous"), retire, "change"),
      /change commands need a role of your own/,
    );
    assert.equal(policy.authorizeGrant(who("r", ["retirer"]), retire, "change").risk, "change");
  });
  test("a pinned action cannot turn a read into an unchecked change", () => {
    const plain: ParsedCommand = { spec: retiring, typed: "nodes", args: {}, where: {} };
    const roles = { retirer: { grants: [{ command: "nodes", args: { action: "retire" } }] } };
    // `nodes` for a role that may only retire gets the pin, and the risk that goes with it.
    const own = new Policy({ roles, defaultRoles: [] });
    assert.equal(own.authorizeGrant(who("r", ["retirer"]), plain, "read").risk, "change");
    // A default role holding such a grant does not authorize it at all.
    const everyone = new Policy({ roles, defaultRoles: ["retirer"] });
    assert.throws(() => everyone.authorize(who("anonymous"), plain, "read"), PermissionDeniedError);
  });
});

function firstOf<T extends BotEvent["type"]>(events: BotEvent[], type: T) {
  const e = events.find((x) => x.type === type);
  if (e?.type !== type) throw new Error(`no ${type}: ${JSON.stringify(events)}`);
  return e as Extract<BotEvent, { type: T }>;
}

describe("attack: a viewer of the shipped example revokes and accepts host keys (real agents)", () => {
  let fleet: TestFleet;
  let redis: Redis;
  let bot: TestBot;
  const example = parseYaml(
    readFileSync(join(ROOT, "config", "commodore.example.yaml"), "utf8"),
  ) as { roles: unknown; bot: { defaultRoles: unknown; providers: unknown } };
  const viewer = who("mallory", ["viewer"]);
  const admin = who("alice", ["admin"]);
  const states = async () => {
    const list = firstOf(await bot.run(admin, "nodes pending"), "result");
    const accepted = firstOf(await bot.run(admin, "nodes"), "result");
    const names = (r: typeof list) =>
      r.result.kind === "nodes" ? r.result.nodes.map((n) => `${n.hostname}:${n.state}`) : [];
    return [...names(accepted), ...names(list)].sort();
  };
  before(async () => {
    fleet = await startFleet([
      { hostname: "web01", facts: { role: "web" } },
      { hostname: "web02", facts: { role: "web" } },
    ]);
    redis = new Redis(fleet.redis.url);
    bot = testBot(
      {
        roles: example.roles,
        bot: { defaultRoles: example.bot.defaultRoles, providers: example.bot.providers },
      },
      redis,
      fleet.controller({ enrollment: "manual", ackTimeoutMs: 400 }),
    );
    const fp = fleet.agents.get("web01")?.key.fingerprint ?? "";
    assert.equal(firstOf(await bot.run(admin, `nodes accept web01 ${fp}`), "result").ok, true);
  });
  after(async () => {
    await bot.close();
    redis.disconnect();
    await fleet.stop();
  });

  test("every change attempt is refused with the grant to add, and nothing changed", async () => {
    const before = await states();
    assert.deepEqual(before, ["web01:accepted", "web02:pending"]);
    const fp2 = fleet.agents.get("web02")?.key.fingerprint ?? "";
    for (const text of [
      "nodes revoke web01",
      "nodes reject web02",
      `nodes accept web02 ${fp2}`,
      "nodes accept --all-matching where role=web",
      "hosts revoke web01",
    ]) {
      for (const p of [viewer, who("anonymous")]) {
        const events = await bot.run(p, text, "http");
        const error = firstOf(events, "error");
        assert.equal(error.code, "E_PERMISSION_DENIED", text);
        assert.ok(!events.some((e) => e.type === "result" || e.type === "accepted"), text);
      }
      const denied = firstOf(await bot.run(viewer, text, "irc"), "error");
      assert.match(denied.message, /grants nodes for its read uses only/);
      assert.match(
        denied.hint ?? "",
        /add \{command: nodes, args: \{action: (revoke|reject|accept)\}\}/,
      );
    }
    assert.deepEqual(await states(), before);
    // The viewer still reads.
    const list = firstOf(await bot.run(viewer, "nodes"), "result");
    assert.ok(list.result.kind === "nodes" && list.result.nodes.length === 1);
  });
});
