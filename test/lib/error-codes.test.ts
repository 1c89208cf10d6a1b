/**
 * One error-code catalogue: every `E_…` code the sources use is in it, each with a deliberate
 * HTTP status, and the HTTP transport answers with exactly that status.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ERROR_CODES, httpStatusOf, isErrorCode } from "../../lib/error-codes.ts";
import { statusForCode } from "../../transports/http/errors.ts";

const ROOT = join(import.meta.dirname, "../..");
const SOURCE_DIRS = ["app", "bot", "cli", "config", "executors", "lib", "transports"];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

describe("error codes", () => {
  test("every E_ code in the sources is in the catalogue", () => {
    const used = new Set<string>();
    for (const file of SOURCE_DIRS.flatMap((d) => sources(join(ROOT, d))))
      for (const m of readFileSync(file, "utf8").matchAll(/["'`](E_[A-Z0-9_]+)["'`]/g))
        if (m[1] !== undefined) used.add(m[1]);
    const missing = [...used].filter((code) => !isErrorCode(code)).sort();
    assert.deepEqual(missing, []);
    assert.ok(used.size >= 60, `found ${used.size} codes`);
  });

  test("every code has a client or server error status and a meaning", () => {
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      assert.ok(entry.status >= 400 && entry.status <= 599, code);
      assert.ok(entry.meaning.length > 10, code);
    }
  });

  test("the HTTP transport answers each code with its catalogue status", () => {
    for (const [code, entry] of Object.entries(ERROR_CODES))
      assert.equal(statusForCode(code), entry.status, code);
    assert.equal(statusForCode("E_FILTER_TOO_COSTLY"), 400);
    assert.equal(statusForCode("E_PROVISION_ALREADY_PENDING"), 409);
    assert.equal(statusForCode("E_NODE_NOT_REGISTERED"), 404);
    assert.equal(statusForCode("E_RATE_LIMITED"), 429);
    assert.equal(httpStatusOf("E_NO_SUCH_CODE"), 500);
  });
});
