/**
 * Redis passwords never leak: not with a raw `@` or `/` in them (which should have been
 * percent-encoded), not in log lines, not in parse errors, not in what the CLI prints when it
 * cannot connect. Checked on the redactor and on a real `commodore fleet` process against a
 * real redis-server that requires such a password.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { createLogger, redactUrlCredentials } from "../../lib/log.ts";
import { parseTopologyUrl } from "../../lib/redis/url.ts";
import { ensureKeys } from "../../executors/fleet/keygen.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { tempDir } from "../harness/tmp.ts";

const run = promisify(execFile);
const BIN = join(import.meta.dirname, "../../bin/commodore.js");
const SECRET = "s3cr@t/pa:ss";
const SECRET_PARTS = ["s3cr", "t/pa", "pa:ss", SECRET];

function leaks(text: string): string[] {
  return SECRET_PARTS.filter((p) => text.includes(p));
}

describe("credentials in Redis URLs are never printed", () => {
  test("the redactor hides passwords holding raw @, / and :", () => {
    for (const url of [
      `redis://commodore-bot:${SECRET}@127.0.0.1:6379`,
      `rediss://:${SECRET}@redis.internal:6380/2`,
      `sentinel://commodore-bot:${SECRET}@10.0.0.1:26379,10.0.0.2:26379/mymaster`,
      `cluster://u:${encodeURIComponent(SECRET)}@10.0.0.1:7000`,
    ]) {
      const text = `cannot connect to ${url}, retrying`;
      const out = redactUrlCredentials(text);
      assert.deepEqual(leaks(out), [], out);
      assert.match(out, /:\/\/\*\*\*@/);
      assert.match(out, /, retrying$/);
    }
    const json = JSON.stringify({ url: `redis://u:${SECRET}@h:1` });
    assert.deepEqual(leaks(redactUrlCredentials(json)), []);
    assert.equal(redactUrlCredentials("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
  });

  test("the redactor is one pass: a long run of letters (an attacker's hostname) costs no backtracking", () => {
    // The regex it replaces, as the reference for what is replaced.
    const reference = (t: string) => t.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s"'<>]*@/gi, "$1***@");
    for (const t of [
      "x redis://a:b@h y",
      "1abc://u@h",
      "http://a@b/http://c@d e://f@g",
      ":// @ a://",
      'a://b"c@d',
      "-://u@h B+://u@h",
    ])
      assert.equal(redactUrlCredentials(t), reference(t), t);
    const long = "h".repeat(200_000);
    assert.equal(redactUrlCredentials(long), long);
    assert.equal(redactUrlCredentials(`${long}://u:p@h`), `${long}://***@h`);
  });

  test("log lines and parse errors name the problem, not the password", () => {
    const lines: string[] = [];
    const log = createLogger({ sink: (l) => lines.push(l) });
    log.warn("redis error", {
      url: `redis://u:${SECRET}@h:1`,
      detail: `at redis://u:${SECRET}@h:1`,
    });
    assert.deepEqual(leaks(lines.join("\n")), []);
    const errors: string[] = [];
    for (const url of [
      `redis://u:${SECRET}@h:1`,
      `redis://u:pa/ss@h`,
      `sentinel://u:${SECRET}@h:1/m`,
      `cluster://u:${SECRET}@h:1`,
    ]) {
      try {
        parseTopologyUrl(url);
      } catch (err) {
        const e = err as Error & { hint?: string };
        errors.push(`${e.message} ${e.hint ?? ""}`);
      }
    }
    assert.ok(errors.length >= 1, "a raw / makes a single-server URL invalid");
    const sentinel = parseTopologyUrl(`sentinel://u:${SECRET}@h:26379/mymaster`);
    assert.equal(sentinel.password, SECRET, "a raw @, / or : in a sentinel password stays whole");
    assert.deepEqual(leaks(errors.join("\n")), []);
    assert.ok(
      errors.every((e) => /percent-encoded/.test(e)),
      errors.join("\n"),
    );
  });

  describe("a real commodore fleet process", () => {
    let redis: TestRedis;
    before(async () => {
      redis = await startRedis(["--requirepass", SECRET]);
    });
    after(() => redis.stop(true));

    test("connects with the password percent-encoded; a refused login fails at once and prints none of it", async () => {
      const keys = ensureKeys(join(tempDir(), "keys"), "ops");
      const fleet = (url: string) =>
        run(
          process.execPath,
          [
            BIN,
            "fleet",
            "ping",
            "--redis",
            url,
            "--key",
            keys.controllerKey.privatePath,
            "--ack-timeout",
            "100",
          ],
          { env: { PATH: process.env["PATH"] ?? "" } },
        ).then(
          (r) => ({ code: 0, out: r.stdout + r.stderr }),
          (e: { code: number; stdout: string; stderr: string }) => ({
            code: e.code,
            out: e.stdout + e.stderr,
          }),
        );
      const good = await fleet(`redis://:${encodeURIComponent(SECRET)}@127.0.0.1:${redis.port}`);
      assert.equal(good.code, 2, `connected; no host registered: ${good.out}`);
      const wrong = await fleet(
        `redis://:wrong${SECRET.replace("/", "%2F")}@127.0.0.1:${redis.port}`,
      );
      assert.equal(wrong.code, 69);
      assert.match(wrong.out, /refused the login \(WRONGPASS\)/);
      assert.deepEqual(leaks(wrong.out), [], wrong.out);
    });
  });
});
