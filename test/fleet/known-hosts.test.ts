import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  KnownHostsError,
  loadKnownHosts,
  parseKnownHosts,
} from "../../executors/fleet/controller/known-hosts.ts";
import { parsePublicKeyLine } from "../../executors/fleet/protocol/keys.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { tempDir } from "../harness/tmp.ts";

const line = (publicLine: string) => parsePublicKeyLine(publicLine).line;

describe("controller known_hosts (OpenSSH format)", () => {
  const a = makeKey("ed25519", "a");
  const b = makeKey("ecdsa", "b");
  const ca = makeKey("ed25519", "ca");

  test("plain lines accept a key for matching hosts; negation wins; case folds", () => {
    const kh = parseKnownHosts(
      [
        "# comment",
        "",
        `www*,!www-old,[db01]:2222 ${a.publicLine}`,
        `exact01 ${b.publicLine.split(" ").slice(0, 2).join(" ")}`,
      ].join("\n"),
    );
    assert.equal(kh.accepts("www01", line(a.publicLine)), true);
    assert.equal(kh.accepts("WWW02", line(a.publicLine)), true);
    assert.equal(kh.accepts("www-old", line(a.publicLine)), false);
    assert.equal(kh.accepts("db01", line(a.publicLine)), true);
    assert.equal(kh.accepts("www01", line(b.publicLine)), false);
    assert.equal(kh.accepts("exact01", line(b.publicLine)), true);
    assert.equal(kh.accepts("exact010", line(b.publicLine)), false);
    assert.deepEqual(kh.counts, { keys: 2, authorities: 0, revoked: 0 });
  });

  test("markers: @cert-authority per host pattern, @revoked for every host", () => {
    const kh = parseKnownHosts(
      `@cert-authority *.example.org ${ca.publicLine}\n@revoked * ${b.publicLine}\n`,
    );
    assert.deepEqual(
      kh.authoritiesFor("web.example.org").map((k) => k.line),
      [line(ca.publicLine)],
    );
    assert.deepEqual(kh.authoritiesFor("web.example.com"), []);
    assert.equal(kh.revoked(line(b.publicLine)), true);
    assert.equal(kh.revoked(line(a.publicLine)), false);
    assert.equal(
      kh.accepts("web.example.org", line(ca.publicLine)),
      false,
      "a CA key is no host key",
    );
  });

  test("hashed hostnames written by ssh-keygen -H match", () => {
    const dir = tempDir();
    const file = join(dir, "known_hosts");
    writeFileSync(file, `secret-host ${a.publicLine}\n`);
    execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
    assert.match(readFileSync(file, "utf8"), /^\|1\|/);
    const kh = loadKnownHosts(file);
    assert.equal(kh.accepts("secret-host", line(a.publicLine)), true);
    assert.equal(kh.accepts("other-host", line(a.publicLine)), false);
  });

  test("bad lines are errors naming the line; a missing file names its path", () => {
    const bad = (text: string, pattern: RegExp) =>
      assert.throws(
        () => parseKnownHosts(text),
        (err: unknown) => {
          assert.ok(err instanceof KnownHostsError);
          assert.equal(err.code, "E_FLEET_KNOWN_HOSTS");
          assert.match(err.message, pattern);
          return true;
        },
      );
    bad(`ok ${a.publicLine}\n@markme host ${a.publicLine}`, /line 2: unknown marker/);
    bad("host ssh-ed25519", /line 1: expected hostpatterns, key type and key data/);
    bad("host ssh-ed25519 bm90IGEga2V5", /line 1: /);
    bad(`|1|onlysalt ${a.publicLine}`, /line 1: hashed hostname/);
    bad(`host,,other ${a.publicLine}`, /line 1: empty host pattern/);
    assert.throws(
      () => loadKnownHosts("/nonexistent/known_hosts"),
      /cannot read \/nonexistent\/known_hosts: ENOENT/,
    );
  });
});
