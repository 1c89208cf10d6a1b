import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { builtinRegistry } from "../../bot/commands/builtins/index.ts";
import { rolloutOf, refinementOf } from "../../bot/commands/builtins/fleet-options.ts";
import { parseCommand } from "../../bot/commands/parse.ts";
import type { AuditLog } from "../../bot/audit/log.ts";
import type { JobCanceller } from "../../bot/jobs/cancel.ts";
import type { JobStore } from "../../bot/jobs/types.ts";
import { Policy } from "../../bot/permissions/policy.ts";
import { CommodoreError } from "../../lib/errors.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";

const registry = builtinRegistry({
  policy: new Policy({ roles: {}, defaultRoles: [] }),
  jobs: {} as JobStore,
  canceller: {} as JobCanceller,
  audit: {} as AuditLog,
  fleet: undefined,
  providerRisks: { uptime: "change" },
  confirmTtlSeconds: 300,
  metrics: new MetricsRegistry(),
});
const parse = (text: string) => parseCommand(text, registry);

function fails(text: string, message: RegExp): void {
  assert.throws(
    () => parse(text),
    (err: unknown) => err instanceof CommodoreError && message.test(err.message),
    text,
  );
}

describe("where operators", () => {
  test("globs stay in where; !=, regex and numeric terms become conditions", () => {
    const cmd = parse(
      "fleet uptime where role=web env!=prod cpus>=4 'hostname=/^www\\d+$/' mem<2.5",
    );
    assert.deepEqual(cmd.where, { role: "web" });
    assert.deepEqual(cmd.filters, [
      { fact: "env", op: "!=", value: "prod" },
      { fact: "cpus", op: ">=", value: "4" },
      { fact: "hostname", op: "=~", value: "^www\\d+$" },
      { fact: "mem", op: "<", value: "2.5" },
    ]);
    assert.equal(parse("fleet uptime where role==web").where["role"], "web");
    assert.equal(parse("fleet uptime").filters, undefined);
  });

  test("bad terms are refused naming the term", () => {
    fails("fleet uptime where cpus>=four", /cpus>=four.*must be a number/);
    fails("fleet uptime where hostname=/(?=x)/", /look-around/);
    fails("fleet uptime where hostname!=/x/", /negated regexes/);
    fails("fleet uptime where 9x=1", /fact name "9x"/);
    fails("fleet uptime where role", /must look like/);
    fails("fleet uptime where env!=", /has no value/);
  });
});

describe("fleet options", () => {
  test("--limit, --batch, --batch-wait, --stop-after-failures and --hosts anywhere before where", () => {
    const cmd = parse(
      "fleet service --batch 25% nginx --batch-wait 2 restart --stop-after-failures 1 --limit 3 --hosts a.example,b where role=web",
    );
    assert.deepEqual(cmd.args["args"], ["nginx", "restart"]);
    assert.deepEqual(rolloutOf(cmd), {
      limit: { count: 3 },
      batch: { size: { percent: 25 }, waitMs: 2_000, stopAfterFailures: 1 },
    });
    assert.deepEqual(refinementOf(cmd), { identities: ["a.example", "b"] });
  });

  test("a bare -- ends options; bad values name the option", () => {
    assert.deepEqual(parse("fleet exec tool -- --limit 2").args["args"], ["tool", "--limit", "2"]);
    fails("fleet uptime --limit 0", /--limit .* must be a host count/);
    fails("fleet uptime --batch 101%", /--batch/);
    fails("fleet uptime --limit", /--limit needs a value/);
    fails("fleet uptime --limit 1 --limit 2", /given twice/);
    fails("fleet uptime --hosts 'a;b'", /--hosts/);
    assert.throws(() => rolloutOf(parse("fleet uptime --batch-wait 3")), /only apply with --batch/);
  });
});

describe("fleet risk", () => {
  const risk = (text: string) => {
    const cmd = parse(text);
    return cmd.spec.risk(cmd);
  };
  test("service status and log are read; other service actions, exec and pull change", () => {
    assert.equal(risk("fleet service nginx status"), "read");
    assert.equal(risk("fleet service nginx restart"), "change");
    assert.equal(risk("fleet service nginx stop"), "change");
    assert.equal(risk("fleet exec rotate"), "change");
    assert.equal(risk("fleet pull"), "change");
    assert.equal(risk("fleet log syslog 20"), "read");
    assert.equal(risk("fleet ping"), "read");
    assert.equal(risk("fleet uptime"), "change", "configuration overrides built-in rules");
  });
});
