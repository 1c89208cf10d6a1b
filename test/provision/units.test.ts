import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { createWriteStream, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../../lib/log.ts";
import { createCallbackKeys } from "../../executors/provision/callback-keys.ts";
import { checkExtraVars } from "../../executors/provision/extra-vars.ts";
import { clientAddress } from "../../executors/provision/forwarded.ts";
import { networkSet, normalizeAddress, parseCidr } from "../../executors/provision/net.ts";
import { parseProvisionOptions } from "../../executors/provision/options.ts";
import { choosePlaybook, resolvePlaybook } from "../../executors/provision/playbooks.ts";
import { backoffDelay } from "../../lib/backoff.ts";
import { varsYaml } from "../../executors/provision/runner/files.ts";
import {
  fingerprint,
  knownHostsLine,
  parseHostKey,
} from "../../executors/provision/runner/host-key.ts";
import { outcomeOf } from "../../executors/provision/runner/outcome.ts";
import { runProcess } from "../../executors/provision/runner/process.ts";
import { parseReport } from "../../executors/provision/runner/recap.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { tempDir } from "../harness/tmp.ts";

describe("addresses and networks", () => {
  test("normalises v4, v6 and v4-mapped v6; rejects the rest", () => {
    assert.equal(normalizeAddress("::ffff:10.1.2.3"), "10.1.2.3");
    assert.equal(normalizeAddress("FD00::1"), "fd00::1");
    assert.equal(normalizeAddress("10.1.2.300"), undefined);
    assert.equal(normalizeAddress("example.com"), undefined);
    assert.equal(parseCidr("10.0.0.0/33"), undefined);
    assert.equal(parseCidr("10.0.0.0/8/1"), undefined);
    assert.deepEqual(parseCidr("fd00::/8"), { address: "fd00::", prefix: 8, family: "ipv6" });
    const nets = networkSet(["10.0.0.0/8", "fd00::/8", "192.168.1.7"]);
    assert.ok(
      nets.contains("10.9.9.9") && nets.contains("::ffff:10.0.0.1") && nets.contains("fd12::1"),
    );
    assert.ok(
      nets.contains("192.168.1.7") && !nets.contains("192.168.1.8") && !nets.contains("junk"),
    );
  });

  test("X-Forwarded-For counts only behind trusted proxies, right-most untrusted hop wins", () => {
    const proxies = networkSet(["10.0.0.1", "10.0.0.2"]);
    assert.equal(clientAddress("1.2.3.4", "5.6.7.8", proxies), "1.2.3.4");
    assert.equal(clientAddress("10.0.0.1", "5.6.7.8", proxies), "5.6.7.8");
    assert.equal(clientAddress("10.0.0.1", "6.6.6.6, 5.6.7.8, 10.0.0.2", proxies), "5.6.7.8");
    assert.equal(clientAddress("10.0.0.1", "10.0.0.2", proxies), "10.0.0.2");
    assert.equal(clientAddress("10.0.0.1", "5.6.7.8, not-an-ip", proxies), undefined);
    assert.equal(clientAddress("::ffff:10.0.0.1", undefined, proxies), "10.0.0.1");
    assert.equal(clientAddress(undefined, "5.6.7.8", proxies), undefined);
  });
});

describe("options", () => {
  test("defaults and clear errors naming path, expectation and value", () => {
    const ok = parseProvisionOptions({
      playbookDir: "/p",
      logDir: "/l",
      remoteUser: "root",
      privateKey: "/k",
    });
    assert.equal(ok.concurrency, 4);
    assert.equal(ok.retries.max, 3);
    assert.deepEqual(ok.callback, { playbooks: {}, trustedProxies: [] });
    assert.throws(
      () =>
        parseProvisionOptions({
          playbookDir: "/p",
          logDir: "/l",
          remoteUser: "root",
          privateKey: "/k",
          concurrency: "many",
          tofuNetworks: ["10.0.0.0/99"],
          callback: { playbooks: { web: { hostConfigKeySha256: "secret-in-clear" } } },
        }),
      (err: Error) => {
        assert.match(err.message, /provision\.concurrency: expected number, found "many"/);
        assert.match(
          err.message,
          /provision\.tofuNetworks\.0: expected a CIDR such as 10\.0\.0\.0\/8, found "10\.0\.0\.0\/99"/,
        );
        assert.match(
          err.message,
          /provision\.callback\.playbooks\.web\.hostConfigKeySha256: expected 64 hex digits, found \[redacted\]/,
        );
        assert.doesNotMatch(err.message, /secret-in-clear/);
        return true;
      },
    );
  });
});

describe("playbooks and extra vars", () => {
  test("resolves names inside the directory only, following symlinks", () => {
    const root = tempDir();
    const dir = join(root, "playbooks");
    mkdirSync(dir);
    writeFileSync(join(dir, "web.yaml"), "- hosts: all\n");
    writeFileSync(join(root, "outside.yml"), "- hosts: all\n");
    symlinkSync(join(root, "outside.yml"), join(dir, "escape.yml"));
    assert.equal(resolvePlaybook(dir, "web"), join(dir, "web.yaml"));
    assert.throws(() => resolvePlaybook(dir, "escape"), /resolves outside the playbook directory/);
    assert.throws(() => resolvePlaybook(dir, "../outside"), /looks like a path/);
    assert.throws(() => resolvePlaybook(dir, ".hidden"), /is not a valid name/);
    assert.throws(
      () => resolvePlaybook(dir, "nope"),
      /is not in .* \(looked for nope\.yml and nope\.yaml\)/,
    );
    const defaults = {
      defaultPlaybook: "base",
      firstBoot: { factKey: "role", map: { web: "web" } },
    };
    assert.equal(choosePlaybook(defaults, "db", { role: "web" }), "db");
    assert.equal(choosePlaybook(defaults, undefined, { role: "web" }), "web");
    assert.equal(choosePlaybook(defaults, undefined, { role: "cache" }), "base");
  });

  test("extra vars: allow-listed scalars only, ansible_* never", () => {
    assert.deepEqual(checkExtraVars({ a: "x", b: 2, c: true }, ["a", "b", "c"]), {
      a: "x",
      b: 2,
      c: true,
    });
    assert.deepEqual(checkExtraVars(undefined, []), {});
    assert.throws(() => checkExtraVars({ d: 1 }, ["a"]), /extra var "d" is not in the allow-list/);
    assert.throws(() => checkExtraVars({ a: { nested: 1 } }, ["a"]), /has a object value/);
    assert.throws(() => checkExtraVars({ ansible_user: "x" }, ["ansible_user"]), /is reserved/);
    assert.throws(() => checkExtraVars(["a"], ["a"]), /must be an object/);
    assert.equal(
      varsYaml({ a: "{{ lookup('pipe','id') }}", n: 3 }),
      `a: !unsafe "{{ lookup('pipe','id') }}"\nn: 3\n`,
    );
  });
});

describe("host keys", () => {
  test("parses and pins OpenSSH keys, rejecting inconsistent blobs", () => {
    const line = makeKey("ed25519", "c").publicLine;
    const key = parseHostKey(line);
    assert.ok(key);
    assert.match(fingerprint(key), /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.equal(knownHostsLine("10.0.0.1", 22, key), `10.0.0.1 ${key.type} ${key.base64}`);
    assert.equal(knownHostsLine("fd00::1", 2222, key), `[fd00::1]:2222 ${key.type} ${key.base64}`);
    assert.equal(parseHostKey(line.replace("ssh-ed25519", "ssh-rsa")), undefined);
    assert.equal(parseHostKey("ssh-ed25519 !!!"), undefined);
    assert.equal(parseHostKey(""), undefined);
  });
});

describe("recap and outcome", () => {
  const report = (stats: object, taskResult: object = {}) =>
    JSON.stringify({
      plays: [{ tasks: [{ task: { name: "t" }, hosts: { web: taskResult } }] }],
      stats: { web: stats },
    });
  const proc = (stdout: string, extra: object = {}) => ({
    exitCode: 0,
    stdout,
    stderrTail: "",
    timedOut: false,
    aborted: false,
    ...extra,
  });
  const classify = (stdout: string, extra: object = {}) =>
    outcomeOf(
      proc(stdout, extra),
      parseReport(stdout, "web"),
      "web",
      { ansiblePlaybook: "ap", timeoutMs: 9 },
      1,
      "/l",
    );

  test("classifies recaps", () => {
    const ok = { ok: 2, changed: 1, unreachable: 0, failures: 0, skipped: 1 };
    assert.equal(classify("[WARNING]: noise\n" + report(ok)).status, "succeeded");
    assert.equal(
      classify("[WARNING]: noise\n" + report(ok)).message,
      "ok=2 changed=1 unreachable=0 failed=0 skipped=1",
    );
    assert.equal(classify(report({ ...ok, failures: 1 })).status, "failed");
    assert.equal(classify(report({ ...ok, unreachable: 1 })).status, "unreachable");
    const hostKey = report(
      { unreachable: 1 },
      { unreachable: true, msg: "Host key verification failed." },
    );
    assert.equal(classify(hostKey).status, "refused");
    assert.match(classify(hostKey).message, /does not match the pinned key/);
    assert.deepEqual(parseReport(report(ok, { changed: true, msg: "m" }), "web")?.tasks, [
      { task: "t", status: "changed", msg: "m" },
    ]);
  });

  test("no recap, timeouts, cancellation and a missing binary", () => {
    const noRecap = classify("", {
      exitCode: 4,
      stderrTail: "ERROR! the playbook could not be found\n",
    });
    assert.deepEqual(
      [noRecap.status, noRecap.message],
      ["error", "ansible-playbook produced no recap: ERROR! the playbook could not be found"],
    );
    assert.equal(parseReport("{ not json", "web"), undefined);
    assert.equal(parseReport(report({ ok: 1 }), "other"), undefined);
    assert.equal(classify("", { timedOut: true }).status, "timeout");
    assert.equal(classify("", { aborted: true }).status, "cancelled");
    assert.match(
      classify("", { spawnError: "ENOENT" }).message,
      /cannot start ap \(ENOENT\): install ansible-core/,
    );
  });

  test("retry delays: the shared jittered backoff, doubling up to the cap", () => {
    const bounds = { baseMs: 100, capMs: 500 };
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => backoffDelay(n - 1, bounds, () => 1)),
      [100, 200, 400, 500, 500],
    );
    assert.ok([1, 2, 3, 4, 5].every((n) => backoffDelay(n - 1, bounds, () => 0) === 100));
  });
});

describe("callback keys", () => {
  test("digest and env keys verify; a missing env variable disables the playbook", () => {
    const keys = createCallbackKeys(
      {
        playbooks: {
          a: {
            hostConfigKeySha256: "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b",
          },
          b: { hostConfigKeyEnv: "B_KEY" },
          c: { hostConfigKeyEnv: "MISSING_KEY" },
        },
        trustedProxies: [],
      },
      { B_KEY: "bee" },
      silentLogger,
    );
    assert.deepEqual(keys.playbooks, ["a", "b"]);
    assert.ok(keys.verify("a", "secret") && keys.verify("b", "bee"));
    assert.ok(!keys.verify("a", "bee") && !keys.verify("c", "") && !keys.verify("zzz", "secret"));
  });
});

/** True when `pid` no longer runs (absent, or a zombie nobody reaped: PID 1 here does not). */
function isGone(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true;
  }
}

describe("process runner", () => {
  test("a timeout kills the whole process group", async () => {
    const dir = tempDir();
    const log = createWriteStream(join(dir, "p.log"));
    const result = await runProcess({
      command: "sh",
      args: ["-c", "sleep 30 & echo $!; wait"],
      env: process.env,
      cwd: dir,
      timeoutMs: 300,
      signal: new AbortController().signal,
      log,
    });
    log.end();
    assert.equal(result.timedOut, true);
    const grandchild = Number(result.stdout.trim());
    assert.ok(grandchild > 0);
    assert.ok(isGone(grandchild), `process ${grandchild} survived the timeout`);
  });
});
