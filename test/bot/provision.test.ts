/**
 * The `provision` command without Redis or ansible: parsing (`--check` flags), grants that
 * pin a dry run, what reaches the executor, progress and result lines, and `job prov-N`.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { AuditLog } from "../../bot/audit/log.ts";
import { builtinRegistry } from "../../bot/commands/builtins/index.ts";
import { parseCommand } from "../../bot/commands/parse.ts";
import type { RunContext } from "../../bot/commands/types.ts";
import type { BotEvent } from "../../bot/contract.ts";
import type { JobCanceller } from "../../bot/jobs/cancel.ts";
import type { JobStore } from "../../bot/jobs/types.ts";
import { Policy } from "../../bot/permissions/policy.ts";
import type { ProvisionPort } from "../../bot/provision-port.ts";
import type { ProvisionJob, ProvisionRequest } from "../../executors/provision/types.ts";
import { CommodoreError } from "../../lib/errors.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import { who } from "../harness/bot.ts";

const JOB: ProvisionJob = {
  id: "prov-7",
  host: "web01",
  playbook: "web",
  trigger: "callback",
  check: false,
  requestedBy: "callback:10.0.0.5",
  state: "succeeded",
  attempts: 1,
  enqueuedAt: "2026-01-01T00:00:00.000Z",
  outcome: {
    status: "succeeded",
    message: "ok=3 changed=1 unreachable=0 failed=0 skipped=0",
    durationMs: 1,
  },
};

function fakePort(asked: ProvisionRequest[]): ProvisionPort {
  return {
    name: "provision",
    async execute(request, ctx) {
      asked.push(request);
      ctx.progress({ type: "queued", jobId: "prov-8", host: request.host });
      ctx.progress({ type: "started", jobId: "prov-8", attempt: 1 });
      return {
        jobId: "prov-8",
        host: request.host,
        playbook: request.playbook ?? "web",
        check: request.check ?? false,
        status: "succeeded",
        attempts: 1,
        message: "ok=2 changed=0 unreachable=0 failed=0 skipped=0",
      };
    },
    close: async () => undefined,
    job: async (id) => (id === JOB.id ? JOB : undefined),
  };
}

function registryWith(port: ProvisionPort | undefined) {
  return builtinRegistry({
    policy: new Policy({ roles: {}, defaultRoles: [] }),
    jobs: { get: async () => undefined } as unknown as JobStore,
    canceller: {} as JobCanceller,
    audit: {} as AuditLog,
    fleet: undefined,
    provision: port,
    providerRisks: {},
    confirmTtlSeconds: 300,
    metrics: new MetricsRegistry(),
  });
}

async function execute(port: ProvisionPort | undefined, text: string, roles = {}) {
  const registry = registryWith(port);
  const policy = new Policy({ roles, defaultRoles: [] });
  const parsed = parseCommand(text, registry);
  const principal = who("alice", Object.keys(roles));
  const command = policy.authorize(principal, parsed, parsed.spec.risk(parsed));
  const events: BotEvent[] = [];
  const ctx: RunContext = {
    invocation: { principal, transport: "cli", text },
    principal,
    command,
    jobId: "j000000000001",
    sink: (e) => events.push(e),
    signal: new AbortController().signal,
  };
  const run = parsed.spec.run;
  assert.ok(run);
  return { outcome: await run.call(parsed.spec, ctx), events };
}

const code = (c: string) => (err: unknown) => err instanceof CommodoreError && err.code === c;

describe("provision command", () => {
  test("parses host, optional playbook and --check anywhere; it is a change command", () => {
    const registry = registryWith(undefined);
    const a = parseCommand("provision web01", registry);
    assert.deepEqual(a.args, { host: "web01" });
    assert.equal(a.spec.risk(a), "change");
    assert.deepEqual(parseCommand("provision --check web01 web", registry).args, {
      check: "yes",
      host: "web01",
      playbook: "web",
    });
    assert.deepEqual(parseCommand("provision web01 web --check", registry).args, {
      check: "yes",
      host: "web01",
      playbook: "web",
    });
    assert.throws(
      () => parseCommand("provision web01 --chek", registry),
      (err: unknown) =>
        code("E_BAD_ARGUMENT")(err) &&
        /did you mean "--check"/.test(String((err as CommodoreError).hint)),
    );
    assert.throws(
      () => parseCommand("provision web01 web extra", registry),
      code("E_BAD_ARGUMENT"),
    );
    // Commands without flags keep --words as positional arguments.
    assert.deepEqual(parseCommand("fleet uptime --now", registry).args, {
      provider: "uptime",
      args: ["--now"],
    });
  });

  test("hands the request to the executor and formats progress and the recap", async () => {
    const asked: ProvisionRequest[] = [];
    const grant = { ops: { grants: [{ command: "provision" }] } };
    const { outcome, events } = await execute(
      fakePort(asked),
      "provision web01 web --check",
      grant,
    );
    assert.deepEqual(asked, [{ host: "web01", playbook: "web", check: true }]);
    assert.equal(outcome.ok, true);
    assert.deepEqual(outcome.result.kind === "data" ? outcome.result.lines : [], [
      "prov-8: web (check) on web01 succeeded: ok=2 changed=0 unreachable=0 failed=0 skipped=0 (1 attempt)",
    ]);
    assert.deepEqual(
      events.map((e) => (e.type === "progress" ? e.line : e.type)),
      ["queued as prov-8 for web01", "prov-8 started (attempt 1)"],
    );
  });

  test("a grant with check: yes forces a dry run; other playbooks are refused", async () => {
    const asked: ProvisionRequest[] = [];
    const roles = {
      junior: { grants: [{ command: "provision", args: { check: "yes", playbook: ["web"] } }] },
    };
    await execute(fakePort(asked), "provision web01 web", roles);
    assert.equal(asked[0]?.check, true);
    await assert.rejects(
      execute(fakePort(asked), "provision web01 db", roles),
      code("E_PERMISSION_DENIED"),
    );
  });

  test("without provisioning configured the command says so; job prov-N reads the queue", async () => {
    await assert.rejects(
      execute(undefined, "provision web01", { a: { grants: [{ command: "*" }] } }),
      code("E_PROVISION_UNAVAILABLE"),
    );
    const all = { a: { grants: [{ command: "*" }] } };
    const { outcome } = await execute(fakePort([]), "job prov-7", all);
    assert.deepEqual(outcome.result.kind === "data" ? outcome.result.lines : [], [
      "prov-7 succeeded web on web01 (callback by callback:10.0.0.5, 2026-01-01T00:00:00.000Z)",
      "attempt 1: succeeded: ok=3 changed=1 unreachable=0 failed=0 skipped=0",
    ]);
    await assert.rejects(execute(fakePort([]), "job prov-9", all), code("E_NOT_FOUND"));
    await assert.rejects(execute(undefined, "job prov-7", all), code("E_NOT_FOUND"));
  });
});
