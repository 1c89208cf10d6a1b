import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { main } from "../../cli/main.ts";
import { ensureKeys } from "../../executors/fleet/keygen.ts";
import { armorSshsig, signSshsig } from "../../executors/fleet/protocol/sshsig.ts";
import { loadPrivateKey } from "../../executors/fleet/protocol/keys.ts";
import { REQUEST_NAMESPACE } from "../../executors/fleet/protocol/channels.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { tempDir } from "../harness/tmp.ts";

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}, stderrIsTty = false) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env,
    signal: new AbortController().signal,
    stderrIsTty,
  });
  return { code, stdout, stderr };
}

/** The escape character that starts ANSI sequences. */
const ESC = String.fromCharCode(0x1b);

describe("commodore fleet / keygen", () => {
  let fleet: TestFleet;
  before(async () => {
    fleet = await startFleet([
      { hostname: "www01", facts: { role: "web" } },
      { hostname: "www02", facts: { role: "web" } },
      { hostname: "db01", facts: { role: "db" } },
    ]);
  });
  after(() => fleet.stop());

  const base = () => [
    "--redis",
    fleet.redis.url,
    "--key",
    fleet.controllerKey.privatePath,
    "--principal",
    "ops",
  ];

  test("hosts are pending until `commodore nodes accept`; a wrong fingerprint is refused", async () => {
    const none = await cli(["fleet", "ping", ...base(), "--ack-timeout", "200"]);
    assert.equal(none.code, 2, "no accepted host is expected");
    const pending = await cli(["nodes", "pending", ...base(), "--json"]);
    assert.equal(pending.code, 0, pending.stderr);
    const listed = JSON.parse(pending.stdout) as { hostname: string; fingerprint: string }[];
    const fingerprints = (h: string) => fleet.agents.get(h)?.key.fingerprint;
    assert.deepEqual(
      listed.map((n) => [n.hostname, n.fingerprint]),
      ["db01", "www01", "www02"].map((h) => [h, fingerprints(h)]),
    );
    const wrong = await cli(["nodes", "accept", "www01", ...base(), "--fingerprint", "SHA256:x"]);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /presents SHA256:.*not SHA256:x/);
    const one = await cli([
      "nodes",
      "accept",
      "www01",
      ...base(),
      "--fingerprint",
      fingerprints("www01") ?? "",
    ]);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /www01 SHA256:\S+: pending -> accepted/);
    const bulk = await cli([
      "nodes",
      "accept",
      "--all-matching",
      "--where",
      "hostname=*",
      ...base(),
    ]);
    assert.equal(bulk.code, 0, bulk.stderr);
    assert.match(bulk.stdout, /2 accepted/);
    const list = await cli(["nodes", ...base()]);
    assert.deepEqual(
      list.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(" ")[0]),
      ["db01", "www01", "www02"],
    );
    assert.match(list.stdout, /accepted \(operator\)/);
    assert.equal((await cli(["nodes", "accept", ...base()])).code, 64);
  });

  test("prints progress, each host's line as it finishes, then the summary; exit 0", async () => {
    const r = await cli(["fleet", "ping", ...base(), "--where", "role=web"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines[0], "accepting acknowledgements for 2000 ms from 2 expected hosts");
    assert.deepEqual(lines.slice(1, 3).sort(), ["www01: pong", "www02: pong"]);
    assert.equal(lines[3], "got 2/2 positive acknowledgements");
    assert.equal(lines[4], "got 2 responses");
    assert.match(lines[5] ?? "", /^2\/2 hosts ok in \d+ ms \(1 noop\)$/);
    assert.equal(r.stderr, "", "no status line on a pipe");
  });

  test("on a terminal a live status line goes to stderr, coloured unless NO_COLOR", async () => {
    const tty = await cli(["fleet", "ping", ...base(), "--where", "role=web"], {}, true);
    assert.equal(tty.code, 0, tty.stderr);
    const frames = tty.stderr.split(`\r${ESC}[2K`).filter((f) => f !== "");
    assert.ok(
      frames.some((f) => f.includes("acked 2/2")),
      tty.stderr,
    );
    assert.ok(tty.stderr.endsWith(`\r${ESC}[2K`), "the status line is cleared before the summary");
    assert.ok(tty.stderr.includes(`${ESC}[32mdone 2${ESC}[0m`), "colour on a terminal");
    assert.doesNotMatch(tty.stdout, new RegExp(ESC), "stdout stays plain");
    const plain = await cli(["fleet", "ping", ...base()], { NO_COLOR: "1" }, true);
    assert.ok(plain.stderr.includes("done 3"), plain.stderr);
    assert.ok(!plain.stderr.includes(`${ESC}[3`), "NO_COLOR: no colour codes");
    const json = await cli(["fleet", "ping", ...base(), "--json"], {}, true);
    assert.equal(json.stderr, "", "--json prints no progress");
    assert.doesNotThrow(() => JSON.parse(json.stdout) as unknown);
  });

  test("--group folds identical outcomes, minorities first; --diff shows how they differ", async () => {
    const grouped = await cli(["fleet", "facts", "role", ...base(), "--group"]);
    assert.equal(grouped.code, 0, grouped.stderr);
    const lines = grouped.stdout.trim().split("\n");
    const heads = lines.filter((l) => !l.startsWith("  ") && /: ok, \d+ lines?/.test(l));
    assert.deepEqual(
      heads.map((l) => l.split(":")[0]),
      ["db01", "www01, www02"],
      "the minority first, the majority last",
    );
    assert.match(heads[0] ?? "", /differs from the majority/);
    assert.ok(!lines.some((l) => l.startsWith("www01: ")), "no per-host lines when grouped");
    const diffed = await cli(["fleet", "facts", "role", ...base(), "--diff"]);
    const diff = diffed.stdout.split("\n").filter((l) => /^ {2}[-+]/.test(l));
    assert.ok(
      diff.some((l) => l.startsWith("  -") && l.includes("web")),
      diffed.stdout,
    );
    assert.ok(
      diff.some((l) => l.startsWith("  +") && l.includes("db")),
      diffed.stdout,
    );
    const json = await cli(["fleet", "facts", "role", ...base(), "--json"]);
    const parsed = JSON.parse(json.stdout) as { groups: { hosts: string[]; majority: boolean }[] };
    assert.deepEqual(
      parsed.groups.map((g) => [g.hosts, g.majority]),
      [
        [["db01"], false],
        [["www01", "www02"], true],
      ],
    );
  });

  test("--json prints the structured result; failures give exit 1", async () => {
    const r = await cli(["fleet", "ping", "bad-arg", ...base(), "--json"]);
    assert.equal(r.code, 1);
    const result = JSON.parse(r.stdout) as {
      summary: { failed: number };
      hosts: { exit: number }[];
    };
    assert.equal(result.summary.failed, 3);
    assert.ok(result.hosts.every((h) => h.exit === 64));
  });

  test("no matching host gives exit 2; usage errors name the flag", async () => {
    assert.equal(
      (await cli(["fleet", "ping", ...base(), "--where", "role=nothing", "--ack-timeout", "200"]))
        .code,
      2,
    );
    const bad = await cli(["fleet", "ping", ...base(), "--where", "novalue"]);
    assert.equal(bad.code, 64);
    assert.match(bad.stderr, /--where .* must be key=value/);
    assert.match((await cli(["fleet", "ping"])).stderr, /--key PATH/);
  });

  test("keygen writes an OpenSSH key and a working allowed_signers line", async () => {
    const dir = tempDir();
    const out = join(dir, "ctl");
    const r = await cli(["keygen", "--out", out, "--principal", "ops"]);
    assert.equal(r.code, 0, r.stderr);
    const line = r.stdout.split("\n").find((l) => l.startsWith("ops ")) ?? "";
    writeFileSync(join(dir, "allowed"), `${line}\n`);
    writeFileSync(
      join(dir, "sig"),
      armorSshsig(signSshsig(loadPrivateKey(out), REQUEST_NAMESPACE, "hi")),
    );
    const verified = execFileSync(
      "ssh-keygen",
      [
        "-Y",
        "verify",
        "-f",
        join(dir, "allowed"),
        "-I",
        "ops",
        "-n",
        REQUEST_NAMESPACE,
        "-s",
        join(dir, "sig"),
      ],
      { input: "hi" },
    );
    assert.match(verified.toString(), /Good/);
    assert.equal((await cli(["keygen", "--out", out])).code, 1);
  });

  test("ensureKeys prepares a state directory once and keeps it", () => {
    const dir = join(tempDir(), "state");
    const first = ensureKeys(dir, "ops");
    const again = ensureKeys(dir, "ops");
    assert.equal(first.controllerKey.fingerprint, again.controllerKey.fingerprint);
    assert.notEqual(first.controllerKey.fingerprint, first.hostKey.fingerprint);
    assert.match(
      readFileSync(first.allowedSignersPath, "utf8"),
      /^ops namespaces="commodore-request@commodore" ssh-ed25519 /,
    );
    assert.match(
      execFileSync("ssh-keygen", ["-l", "-f", first.hostKey.privatePath]).toString(),
      new RegExp(first.hostKey.fingerprint.replace(/[+/]/g, "\\$&")),
    );
  });
});
