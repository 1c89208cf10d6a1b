import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  KnownHostsError,
  loadKnownHosts,
  MAX_KNOWN_HOSTS_BYTES,
  MAX_KNOWN_HOSTS_LINE_LENGTH,
  MAX_KNOWN_HOSTS_LINES,
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
    bad(`ok ${a.publicLine}\n@markme host ${a.publicLine}`, /^known_hosts:2: unknown marker/);
    bad("host ssh-ed25519", /^known_hosts:1: expected hostpatterns, key type and key data/);
    bad("host ssh-ed25519 bm90IGEga2V5", /^known_hosts:1: /);
    bad(`|1|onlysalt ${a.publicLine}`, /^known_hosts:1: hashed hostname/);
    bad(`host,,other ${a.publicLine}`, /^known_hosts:1: empty host pattern/);
    assert.throws(
      () => loadKnownHosts("/nonexistent/known_hosts"),
      /cannot read \/nonexistent\/known_hosts: ENOENT/,
    );
    const file = join(tempDir(), "known_hosts");
    writeFileSync(file, `www01 ${a.publicLine}\nwww02 ssh-ed25519 AAAA\n`);
    assert.throws(() => loadKnownHosts(file), { message: new RegExp(`^${file}:2: `) });
  });

  test("a file over the limits is refused at the line that passes them, without reading on", () => {
    const dir = tempDir();
    const entry = `www01 ${a.publicLine}\n`;
    // Lines of one valid entry until the file is twice the byte limit.
    const huge = join(dir, "huge");
    writeFileSync(huge, entry.repeat(Math.ceil((2 * MAX_KNOWN_HOSTS_BYTES) / entry.length)));
    const passing = Math.floor(MAX_KNOWN_HOSTS_BYTES / entry.length) + 1;
    assert.throws(() => loadKnownHosts(huge), {
      name: "KnownHostsError",
      message: `${huge}:${passing}: the file is larger than 16 MiB, the most it may hold`,
    });
    const many = join(dir, "many");
    writeFileSync(many, "#\n".repeat(MAX_KNOWN_HOSTS_LINES + 1));
    assert.throws(() => loadKnownHosts(many), {
      message: `${many}:${MAX_KNOWN_HOSTS_LINES + 1}: more than ${MAX_KNOWN_HOSTS_LINES} lines, the most the file may have`,
    });
    const long = join(dir, "long");
    writeFileSync(long, `${entry}${"w".repeat(MAX_KNOWN_HOSTS_LINE_LENGTH)} ${a.publicLine}\n`);
    assert.throws(() => loadKnownHosts(long), {
      message: new RegExp(`^${long}:2: the line is \\d+ characters long`),
    });
  });

  test("a FIFO or a directory in the file's place is refused at once (nothing waits for a writer)", () => {
    const dir = tempDir();
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    assert.throws(() => loadKnownHosts(fifo), {
      message: `cannot read ${fifo}: not a regular file (a FIFO)`,
    });
    assert.throws(() => loadKnownHosts(dir), {
      message: `cannot read ${dir}: not a regular file (a directory)`,
    });
  });

  test("the same key on many lines is matched through one index entry", () => {
    const lines = Array.from({ length: 2_000 }, (_, i) => `web${i} ${a.publicLine}`);
    const known = parseKnownHosts([...lines, `db*,!db9 ${b.publicLine}`].join("\n"));
    assert.equal(known.counts.keys, 2_001);
    assert.equal(known.accepts("web1999", line(a.publicLine)), true);
    assert.equal(known.accepts("web2000", line(a.publicLine)), false);
    assert.equal(known.accepts("web1", line(b.publicLine)), false);
    assert.equal(known.accepts("db1", line(b.publicLine)), true);
    assert.equal(known.accepts("db9", line(b.publicLine)), false, "a negated pattern refuses");
  });
});
