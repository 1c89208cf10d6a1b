/**
 * Log lines as operators read them: JSON for shippers, syslog priority prefixes when stderr is
 * the journal systemd names in JOURNAL_STREAM (so `journalctl -p err` filters), a human format
 * on a terminal; errors carry their stack (typed errors their code and hint); secrets never.
 */
import assert from "node:assert/strict";
import { closeSync, fstatSync, openSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { CommodoreError } from "../../lib/errors.ts";
import { createLogger, detectLogFormat, type LogFormat } from "../../lib/log.ts";
import { tempDir } from "../harness/tmp.ts";

/** The escape character that starts an ANSI colour sequence. */
const ESC = String.fromCharCode(0x1b);

function lines(format: LogFormat, colour = false) {
  const out: string[] = [];
  const log = createLogger({ level: "debug", format, colour, sink: (l) => out.push(l) });
  return { out, log };
}

describe("log lines", () => {
  test("journal format prefixes each JSON line with its syslog priority", () => {
    const { out, log } = lines("journal");
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.child({ component: "x" }).error("e", { n: 1 });
    assert.deepEqual(
      out.map((l) => l.slice(0, 3)),
      ["<7>", "<6>", "<4>", "<3>"],
    );
    const last = JSON.parse(out[3]?.slice(3) ?? "{}") as Record<string, unknown>;
    assert.deepEqual(
      [last["level"], last["msg"], last["component"], last["n"]],
      ["error", "e", "x", 1],
    );
  });

  test("JOURNAL_STREAM selects the journal only when it names our very descriptor", () => {
    const file = join(tempDir(), "stderr");
    const fd = openSync(file, "w");
    try {
      const st = fstatSync(fd);
      assert.equal(detectLogFormat({ JOURNAL_STREAM: `${st.dev}:${st.ino}` }, fd), "journal");
      assert.equal(detectLogFormat({ JOURNAL_STREAM: `${st.dev}:${st.ino + 1}` }, fd), "json");
      assert.equal(detectLogFormat({}, fd, true), "human");
      assert.equal(detectLogFormat({}, fd, false), "json");
    } finally {
      closeSync(fd);
    }
  });

  test("unexpected errors carry their stack, typed errors their code and hint, and neither a secret", () => {
    const { out, log } = lines("json");
    const boom = new Error("cannot reach redis://bot:hunter2@10.0.0.1:6379");
    log.error("command failed", { error: boom, password: "hunter2" });
    log.warn("refused", { error: new CommodoreError("E_NOT_FOUND", "nope", { hint: "do y" }) });
    const [first, second] = out.map((l) => JSON.parse(l) as Record<string, Record<string, string>>);
    assert.match(
      first?.["error"]?.["stack"] ?? "",
      /^Error: cannot reach redis:\/\/\*\*\*@10\.0\.0\.1:6379\n\s+at /,
    );
    assert.equal(first?.["password"], "[redacted]");
    assert.deepEqual(second?.["error"], {
      name: "CommodoreError",
      code: "E_NOT_FOUND",
      message: "nope",
      hint: "do y",
    });
    assert.doesNotMatch(out.join("\n"), /hunter2/);
  });

  test("the human format is one readable line per entry, stacks indented below, colour only when asked", () => {
    const plain = lines("human");
    plain.log.warn("fleet message rejected", { reason: "oversize", detail: "300 kB > 256 kB" });
    plain.log.error("command failed", { error: new Error("kaboom") });
    assert.match(
      plain.out[0] ?? "",
      /^\d\d:\d\d:\d\d\.\d{3} WARN {2}fleet message rejected reason=oversize detail="300 kB > 256 kB"$/,
    );
    const [head, ...stack] = (plain.out[1] ?? "").split("\n");
    assert.match(head ?? "", /^\d\d:\d\d:\d\d\.\d{3} ERROR command failed error=/);
    assert.match(stack[0] ?? "", /^ {2}Error: kaboom$/);
    assert.ok(stack.slice(1).every((l) => l.startsWith("      at ")));
    assert.ok(!plain.out.join("").includes(ESC), "no colour unless asked");
    const coloured = lines("human", true);
    coloured.log.error("x");
    assert.ok((coloured.out[0] ?? "").includes(`${ESC}[31mERROR${ESC}[0m`));
  });
});
