import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../config/load.ts";
import { ConfigError } from "../../config/errors.ts";
import { embeddedRawConfig } from "../../config/embedded.ts";
import { main } from "../../cli/main.ts";
import { tempDir } from "../harness/tmp.ts";

const dir = tempDir("commodore-config-");
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
function problems(f: () => unknown): string[] {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message
      .split("\n")
      .slice(1)
      .map((l) => l.trim());
  }
  assert.fail("expected a ConfigError");
}
async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    env,
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}

describe("configuration", () => {
  test("defaults load with no file", () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.http.listen, "127.0.0.1:8080");
    assert.equal(c.redis.url, undefined);
    assert.equal(c.bot.confirm.ttlSeconds, 300);
  });

  test("every error names path, expected and found, with line numbers", () => {
    const f = file(
      "bad.yaml",
      [
        "log:",
        "  level: loud",
        "bot:",
        "  dangerousHostTreshold: 5",
        "http:",
        '  listen: "localhost"',
        "  bodyLimitBytes: lots",
        "principals:",
        "  - id: alice",
        '    http: {tokenSha256: "abc"}',
      ].join("\n"),
    );
    const lines = problems(() => loadConfig({ file: f, env: {} }));
    assert.deepEqual(lines, [
      `${f}:2: log.level: expected one of debug, info, warn, error, silent, found "loud" (a string)`,
      `${f}:4: bot.dangerousHostTreshold: expected one of dangerousHostThreshold, jobTtlSeconds, jobRetention, confirm, audit, providers, defaultRoles (did you mean dangerousHostThreshold?), found unknown key "dangerousHostTreshold"`,
      `${f}:6: http.listen: expected host:port such as 127.0.0.1:8080, found "localhost" (a string)`,
      `${f}:7: http.bodyLimitBytes: expected a number, found "lots" (a string)`,
      `${f}:10: principals[0].http.tokenSha256: expected 64 hex digits (sha256sum of the token), found "[redacted]" (a string)`,
    ]);
  });

  test("cross references: roles must exist", () => {
    const f = file(
      "roles.yaml",
      "roles: {ops: {grants: []}}\nprincipals:\n  - {id: a, roles: [ops, admin]}\n",
    );
    assert.match(
      problems(() => loadConfig({ file: f, env: {} }))[0] ?? "",
      /principals\[0\]\.roles\[1\]: expected a role defined under roles, found "admin"/,
    );
  });

  test("YAML syntax errors, missing files and non-mappings", () => {
    assert.match(
      problems(() => loadConfig({ file: file("syntax.yaml", "a: [1, 2\nb: c"), env: {} }))[0] ?? "",
      /\(file\): expected valid YAML/,
    );
    assert.match(
      problems(() => loadConfig({ file: join(dir, "missing.yaml"), env: {} }))[0] ?? "",
      /expected a readable YAML file, found ENOENT/,
    );
    assert.match(
      problems(() => loadConfig({ file: file("list.yaml", "- a\n- b\n"), env: {} }))[0] ?? "",
      /expected a mapping of sections, found a list/,
    );
  });

  test("environment overrides, named in errors", () => {
    const c = loadConfig({
      env: { REDIS_URL: "rediss://:pw@redis.example:6380", PORT: "9090", LOG_LEVEL: "debug" },
    });
    assert.equal(c.redis.url, "rediss://:pw@redis.example:6380");
    assert.equal(c.http.listen, "127.0.0.1:9090");
    assert.equal(c.log.level, "debug");
    assert.equal(
      loadConfig({ env: { COMMODORE_HTTP_LISTEN: "0.0.0.0:80", PORT: "1" } }).http.listen,
      "0.0.0.0:80",
    );
    const lines = problems(() =>
      loadConfig({ env: { REDIS_URL: "http://user:hunter2@x", LOG_LEVEL: "loud" } }),
    );
    assert.match(lines.join("\n"), /log\.level \(from LOG_LEVEL\): expected one of/);
    assert.match(
      lines.join("\n"),
      /redis\.url \(from REDIS_URL\): expected a redis:\/\/, rediss:\/\/ or unix:\/\/ URL/,
    );
    assert.equal(lines.join("\n").includes("hunter2"), false, "passwords never appear in errors");
  });

  test("the embedded default and the example files are valid", async () => {
    assert.equal(loadConfig({ defaults: embeddedRawConfig(), env: {} }).agent?.local, true);
    const env = { COMMODORE_CI_TOKEN: "x", COMMODORE_SCRIPTS_TOKEN: "y" };
    // The examples name files under /etc/commodore; --skip-files checks everything else.
    for (const example of ["config/commodore.example.yaml", "config/minimal.example.yaml"]) {
      const r = await cli(["config", "check", "--skip-files", example], env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /configuration is valid/);
    }
  });

  test("commodore config check reports problems and exits 78", async () => {
    const bad = file("grant.yaml", "roles:\n  r:\n    grants:\n      - command: flet\n");
    const r = await cli(["config", "check", bad]);
    assert.equal(r.code, 78);
    assert.match(
      r.stderr,
      /roles\.r\.grants\[0\]\.command: expected one of .*found "flet" \(did you mean fleet\?\)/,
    );
    const env = file("env.yaml", "principals:\n  - id: ci\n    http: {tokenEnv: CI_TOKEN}\n");
    assert.match(
      (await cli(["config", "check", env])).stderr,
      /env\.yaml:3: principals\[0\]\.http\.tokenEnv: expected .*, found CI_TOKEN, which is not set/,
    );
    assert.equal((await cli(["config", "check", env], { CI_TOKEN: "t" })).code, 0);
    assert.equal((await cli(["config", "frob", bad])).code, 64);
    assert.equal((await cli(["config", "check"])).code, 64);
  });
});
