import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { quoteWords, tokenize } from "../../bot/commands/tokenize.ts";
import { parseCommand } from "../../bot/commands/parse.ts";
import { builtinRegistry } from "../../bot/commands/builtins/index.ts";
import { Policy } from "../../bot/permissions/policy.ts";
import type { JobCanceller } from "../../bot/jobs/cancel.ts";
import type { JobStore } from "../../bot/jobs/types.ts";
import type { AuditLog } from "../../bot/audit/log.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import { CommodoreError } from "../../lib/errors.ts";

const registry = builtinRegistry({
  policy: new Policy({ roles: {}, defaultRoles: [] }),
  jobs: {} as JobStore,
  canceller: {} as JobCanceller,
  audit: {} as AuditLog,
  fleet: undefined,
  providerRisks: { restart: "dangerous" },
  confirmTtlSeconds: 300,
  metrics: new MetricsRegistry(),
});

function fails(text: string, code: string, hint?: RegExp): void {
  assert.throws(
    () => parseCommand(text, registry),
    (err: unknown) => {
      assert.ok(err instanceof CommodoreError);
      assert.equal(err.code, code);
      if (hint) assert.match(err.hint ?? "", hint);
      return true;
    },
  );
}

describe("tokenize", () => {
  test("splits words and honours quotes and escapes", () => {
    assert.deepEqual(tokenize(`fleet  facts where hostname="www 1" note='a "b"' x\\ y`), [
      "fleet",
      "facts",
      "where",
      "hostname=www 1",
      'note=a "b"',
      "x y",
    ]);
  });
  test("unterminated quote names the position", () => {
    assert.throws(
      () => tokenize(`fleet "uptime`),
      /unterminated double quote starting at character 7/,
    );
  });
  test("quoteWords round-trips", () => {
    const words = ["fleet", "x y", "it's", 'say "hi"', "", "a=b*"];
    assert.deepEqual(tokenize(quoteWords(words)), words);
  });
});

describe("parseCommand", () => {
  test("plain, where and globbed forms", () => {
    const a = parseCommand("fleet uptime", registry);
    assert.equal(a.spec.name, "fleet");
    assert.deepEqual(a.args, { provider: "uptime", args: [] });
    assert.deepEqual(a.where, {});
    const b = parseCommand("fleet uptime where role=web env=prod", registry);
    assert.deepEqual(b.where, { role: "web", env: "prod" });
    const c = parseCommand("FLEET facts WHERE hostname=www*", registry);
    assert.deepEqual(c.where, { hostname: "www*" });
    const d = parseCommand(`f restart "my service" where env=staging`, registry);
    assert.deepEqual(d.args, { provider: "restart", args: ["my service"] });
  });
  test("unknown command suggests the nearest", () => {
    fails("flete uptime", "E_UNKNOWN_COMMAND", /did you mean `fleet`/);
    fails("zzzzzz", "E_UNKNOWN_COMMAND", /help/);
  });
  test("unknown provider suggests the nearest", () => {
    fails("fleet uptme", "E_BAD_ARGUMENT", /did you mean "uptime"/);
  });
  test("bad arguments are precise", () => {
    fails("fleet", "E_BAD_ARGUMENT", /usage: fleet <provider>/);
    fails("jobs lots", "E_BAD_ARGUMENT");
    fails("jobs 0", "E_BAD_ARGUMENT");
    fails("job", "E_BAD_ARGUMENT");
    fails("job a b", "E_BAD_ARGUMENT");
    fails("jobs where a=b", "E_BAD_ARGUMENT");
    fails("fleet uptime where", "E_SYNTAX");
    fails("fleet uptime where role", "E_SYNTAX", /where role=web/);
    fails("fleet uptime where 1x=a", "E_SYNTAX");
    fails("fleet uptime where a=1 a=2", "E_SYNTAX");
    fails("", "E_SYNTAX");
    fails("x".repeat(5000), "E_SYNTAX");
  });
});
