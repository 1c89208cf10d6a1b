import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../../lib/log.ts";
import { createStaticHostDirectory, type KnownHost } from "../../executors/provision/hosts.ts";
import { createMemoryPins, type HostKeyPins } from "../../executors/provision/runner/pins.ts";
import { parseHostKey } from "../../executors/provision/runner/host-key.ts";
import { createPlaybookRunner } from "../../executors/provision/runner/run.ts";
import type { ProvisionOptions } from "../../executors/provision/options.ts";
import type { ProvisionJobSpec } from "../../executors/provision/types.ts";
import { startSshd, type TestSshd } from "../harness/sshd.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { makeDirs, makeOptions, registered, type Dirs } from "./fixture.ts";

let sshd: TestSshd;
let dirs: Dirs;
before(async () => {
  sshd = await startSshd();
  dirs = makeDirs();
});
after(async () => sshd.stop());

function spec(host: string, overrides: Partial<ProvisionJobSpec> = {}): ProvisionJobSpec {
  return {
    host,
    playbook: "marker",
    trigger: "command",
    check: false,
    requestedBy: "test",
    extraVars: { out_dir: dirs.out },
    ...overrides,
  };
}

function runner(
  hosts: KnownHost[],
  options: ProvisionOptions,
  pins: HostKeyPins = createMemoryPins(),
) {
  return createPlaybookRunner({
    options,
    directory: createStaticHostDirectory(hosts),
    pins,
    logger: silentLogger,
  });
}

const ctx = (jobId: string) => ({ jobId, attempt: 1, signal: new AbortController().signal });

describe("playbook runner against a real sshd", () => {
  test("runs the playbook, parses the recap and writes a per-host log", async () => {
    const run = runner([registered(sshd, "web01")], makeOptions(dirs, sshd));
    const outcome = await run(
      spec("web01", { extraVars: { out_dir: dirs.out, flavour: "{{ 7 * 6 }}" } }),
      ctx("j1"),
    );
    assert.equal(outcome.status, "succeeded", outcome.message);
    assert.deepEqual(
      { ok: outcome.recap?.ok, changed: outcome.recap?.changed, failed: outcome.recap?.failed },
      { ok: 1, changed: 1, failed: 0 },
    );
    // The extra var is passed verbatim: !unsafe keeps ansible from templating it.
    assert.equal(
      readFileSync(join(dirs.out, "web01.txt"), "utf8"),
      "provisioned web01 {{ 7 * 6 }}\n",
    );
    const logs = readdirSync(join(dirs.logs, "web01"));
    assert.equal(logs.length, 1);
    assert.match(logs[0] ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\.log$/);
    assert.equal(outcome.logFile, join(dirs.logs, "web01", logs[0] ?? ""));
    const text = readFileSync(outcome.logFile ?? "", "utf8");
    assert.match(text, /job=j1 attempt=1 host=web01 playbook=marker/);
    assert.match(text, /task write marker: changed/);
    assert.match(text, /result succeeded: ok=1 changed=1 unreachable=0 failed=0/);
    assert.doesNotMatch(text, /PRIVATE KEY/);
  });

  test("playbooks see a minimal environment: no bot secret, only what passEnv names", async () => {
    writeFileSync(
      join(dirs.playbooks, "envdump.yml"),
      `- hosts: all
  gather_facts: false
  tasks:
    - name: dump what lookup('env') sees on the controller
      ansible.builtin.copy:
        content: "secret={{ lookup('env', 'COMMODORE_TEST_SECRET') }} passed={{ lookup('env', 'COMMODORE_TEST_PASSED') }} path={{ lookup('env', 'PATH') | length > 0 }}\\n"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.env"
`,
    );
    process.env["COMMODORE_TEST_SECRET"] = "hunter2";
    process.env["COMMODORE_TEST_PASSED"] = "visible";
    try {
      const run = runner(
        [registered(sshd, "env01")],
        makeOptions(dirs, sshd, { passEnv: ["COMMODORE_TEST_PASSED"] }),
      );
      const outcome = await run(spec("env01", { playbook: "envdump" }), ctx("j-env"));
      assert.equal(outcome.status, "succeeded", outcome.message);
      assert.equal(
        readFileSync(join(dirs.out, "env01.env"), "utf8"),
        "secret= passed=visible path=True\n",
      );
    } finally {
      delete process.env["COMMODORE_TEST_SECRET"];
      delete process.env["COMMODORE_TEST_PASSED"];
    }
  });

  test("--check reports what would change and writes nothing", async () => {
    const run = runner([registered(sshd, "dry01")], makeOptions(dirs, sshd));
    const outcome = await run(spec("dry01", { check: true }), ctx("j2"));
    assert.equal(outcome.status, "succeeded", outcome.message);
    assert.equal(outcome.recap?.changed, 1);
    assert.equal(existsSync(join(dirs.out, "dry01.txt")), false);
  });

  test("a changed host key is refused before ansible starts", async () => {
    const other = makeKey("ed25519", "impostor");
    const host = { ...registered(sshd, "moved01"), publicKey: other.publicLine };
    // A missing ansible binary would turn any spawn into status "error": refusal proves no run.
    const run = runner(
      [host],
      makeOptions(dirs, sshd, { ansiblePlaybook: "/nonexistent/ansible-playbook" }),
    );
    const outcome = await run(spec("moved01"), ctx("j3"));
    assert.equal(outcome.status, "refused");
    assert.match(
      outcome.message,
      /host key for moved01 changed: presented SHA256:\S+, pinned SHA256:\S+; refusing/,
    );
    assert.equal(existsSync(join(dirs.out, "moved01.txt")), false);
    assert.match(readFileSync(outcome.logFile ?? "", "utf8"), /result refused/);
  });

  test("an unknown host is refused, by name and by address outside TOFU networks", async () => {
    const run = runner(
      [],
      makeOptions(dirs, sshd, { ansiblePlaybook: "/nonexistent/ansible-playbook" }),
    );
    for (const host of ["ghost", "127.0.0.1"]) {
      const outcome = await run(spec(host), ctx("j4"));
      assert.equal(outcome.status, "refused");
      assert.equal(
        outcome.message.split(" (")[0],
        `unknown host key for ${host}: register the agent or allow TOFU for its network`,
      );
    }
  });

  test("TOFU pins the first key inside an allowed network and refuses a different one later", async () => {
    const pins = createMemoryPins();
    const options = makeOptions(dirs, sshd, { tofuNetworks: ["127.0.0.0/8"] });
    const outcome = await runner([], options, pins)(spec("127.0.0.1"), ctx("j5"));
    assert.equal(outcome.status, "succeeded", outcome.message);
    assert.ok(existsSync(join(dirs.out, "127.0.0.1.txt")));
    const pinned = await pins.get(`[127.0.0.1]:${sshd.port}`);
    assert.deepEqual(pinned, parseHostKey(sshd.hostKey.publicLine));

    const stale = createMemoryPins();
    const wrong = parseHostKey(makeKey().publicLine);
    assert.ok(wrong);
    await stale.pin(`[127.0.0.1]:${sshd.port}`, wrong);
    const refused = await runner([], options, stale)(spec("127.0.0.1"), ctx("j6"));
    assert.equal(refused.status, "refused");
    assert.match(refused.message, /host key for 127\.0\.0\.1 changed/);
  });

  test("playbook paths and traversal are refused", async () => {
    const run = runner([registered(sshd, "web02")], makeOptions(dirs, sshd));
    for (const playbook of ["../marker", "/etc/passwd", "sub/marker", "..", "missing"]) {
      const outcome = await run(spec("web02", { playbook }), ctx("j7"));
      assert.equal(outcome.status, "refused", playbook);
      assert.match(outcome.message, /^playbook /);
    }
  });

  test("extra vars outside the allow-list are refused", async () => {
    const run = runner([registered(sshd, "web03")], makeOptions(dirs, sshd));
    for (const extraVars of [
      { out_dir: dirs.out, evil: "x" },
      { ansible_ssh_common_args: "-o ProxyCommand=x" },
    ]) {
      const outcome = await run(spec("web03", { extraVars }), ctx("j8"));
      assert.equal(outcome.status, "refused");
      assert.match(
        outcome.message,
        /^extra var "(evil|ansible_ssh_common_args)" is (not in the allow-list|reserved)/,
      );
    }
  });

  test("a host that does not answer is reported unreachable", async () => {
    const host = { ...registered(sshd, "down01"), sshPort: 1 };
    const outcome = await runner([host], makeOptions(dirs, sshd))(spec("down01"), ctx("j9"));
    assert.equal(outcome.status, "unreachable");
    assert.match(outcome.message, /down01 \(127\.0\.0\.1 port 1\) did not answer on SSH/);
  });
});
