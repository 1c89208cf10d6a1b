import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { FleetExecutor } from "../../executors/fleet/controller/controller.ts";
import type { FleetRequest, HostResult } from "../../executors/fleet/types.ts";
import {
  argvRecorder,
  hangingScript,
  processGone,
  trustSigner,
  writeScript,
} from "../harness/actions.ts";
import { signerLine } from "../../executors/fleet/keygen.ts";
import { ENROLLMENT_NAMESPACE } from "../../executors/fleet/protocol/channels.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { waitFor } from "../harness/ports.ts";
import { tempDir } from "../harness/tmp.ts";
import { context } from "../fleet/helpers.ts";

describe("action providers on real agents", () => {
  let fleet: TestFleet;
  let ops: FleetExecutor;
  let voice: FleetExecutor;
  const sysv = argvRecorder("service", "nginx restarted");
  const systemd = argvRecorder("systemctl");
  const greeter = argvRecorder("greet");
  const hang = hangingScript(false);
  const hangHard = hangingScript(true);
  const dir = tempDir("commodore-actions-");
  const appLog = join(dir, "app.log");
  const pullLog = join(dir, "pull.log");
  const pullScript = writeScript(
    dir,
    "pull",
    `echo converging\necho "run $$" >> '${pullLog}'\necho "1 changed" >> '${pullLog}'\nexit 3`,
  );

  before(async () => {
    fleet = await startFleet([]);
    const voiceKey = trustSigner(fleet.allowedSignersPath, "voice");
    const authorization = {
      rules: [
        { principals: ["ops"], providers: ["service", "exec", "log", "pull"] },
        { principals: ["voice"], providers: ["service"], args: ["*", "status"] },
        { principals: ["voice"], users: ["alice"], providers: ["log"] },
      ],
    };
    const common = { maxOutputBytes: 1_024, killGraceMs: 300 };
    await fleet.addAgent({
      hostname: "svc1",
      options: {
        authorization,
        actions: {
          ...common,
          service: { units: ["nginx.service", "web-*"], manager: "sysv", servicePath: sysv.path },
          exec: {
            commands: {
              greet: { argv: [greeter.path, "--name", "{who}"], slots: { who: "[a-z]+" } },
              hang: { argv: [hang.path], timeoutMs: 500 },
              "hang-hard": { argv: [hangHard.path], timeoutMs: 500 },
              flood: { argv: ["/usr/bin/seq", "1", "100000"] },
            },
          },
          log: { files: { app: appLog } },
          pull: { argv: [pullScript], logFile: pullLog, logLines: 2 },
        },
      },
    });
    await fleet.addAgent({
      hostname: "sd1",
      options: {
        authorization,
        actions: {
          ...common,
          service: { units: ["nginx.service"], manager: "systemd", systemctlPath: systemd.path },
        },
      },
    });
    await fleet.addAgent({
      hostname: "nogrants",
      options: { actions: { service: { units: ["*"], servicePath: sysv.path, manager: "sysv" } } },
    });
    ops = fleet.controller();
    // A second controller with its own key believes the ops controller's enrollment records.
    const enrollmentSigners = join(tempDir(), "enrollment_signers");
    writeFileSync(
      enrollmentSigners,
      `${signerLine("ops", fleet.controllerKey.publicLine, ENROLLMENT_NAMESPACE)}\n`,
    );
    voice = fleet.controller({
      keyPath: voiceKey.privatePath,
      principal: "voice",
      enrollmentSignersPath: enrollmentSigners,
    });
  });
  after(() => fleet.stop());

  const run = async (
    c: FleetExecutor,
    provider: string,
    args: string[],
    hosts = ["svc1"],
    principalId = "alice",
  ): Promise<readonly HostResult[]> => {
    const req: FleetRequest = { provider, args, where: {}, identities: hosts };
    const result = await c.execute(req, { ...context(), principalId });
    assert.deepEqual(result.hosts.map((h) => h.hostname).sort(), [...hosts].sort());
    return result.hosts;
  };
  const one = async (...a: Parameters<typeof run>) => (await run(...a))[0] as HostResult;

  test("an allowed unit reaches service(8) or systemctl with exactly the expected argv", async () => {
    const hosts = await run(ops, "service", ["nginx.service", "restart"], ["svc1", "sd1"]);
    assert.ok(
      hosts.every((h) => h.status === "ok"),
      JSON.stringify(hosts),
    );
    assert.match(hosts.find((h) => h.hostname === "svc1")?.short ?? "", /nginx restarted/);
    assert.deepEqual(sysv.calls(), [["nginx", "restart"]]);
    assert.deepEqual(systemd.calls(), [["--no-pager", "restart", "--", "nginx.service"]]);
    assert.equal((await one(ops, "service", ["web-api", "reload"])).exit, 0);
    assert.deepEqual(sysv.calls().at(-1), ["web-api", "reload"]);
  });

  test("units outside the allow-list and agents without grants refuse with 77", async () => {
    const before = sysv.calls().length;
    const refused = await run(ops, "service", ["sshd", "restart"], ["svc1", "sd1"]);
    for (const h of refused) {
      assert.equal(h.exit, 77);
      assert.match(h.short, /not in this agent's allow-list/);
    }
    const nogrants = await one(ops, "service", ["nginx", "status"], ["nogrants"]);
    assert.equal(nogrants.exit, 77);
    assert.match(nogrants.short, /principal "ops" .* may not call "service"/);
    assert.equal((await one(ops, "ping", [], ["nogrants"])).exit, 0);
    assert.equal(sysv.calls().length, before);
  });

  test("argument injection is refused before any program runs", async () => {
    const [sysvBefore, greetBefore] = [sysv.calls().length, greeter.calls().length];
    const hostile = [
      "nginx;reboot",
      "$(reboot)",
      "nginx restart",
      "nginx\nreboot",
      "../nginx",
      "-H",
      "web-`id`",
      "",
    ];
    for (const unit of hostile) {
      const h = await one(ops, "service", [unit, "restart"]);
      assert.equal(h.exit, 64, `${JSON.stringify(unit)}: ${h.short}`);
    }
    assert.equal((await one(ops, "service", ["nginx.service", "restart;reboot"])).exit, 64);
    for (const who of ["a;b", "$(id)", "a b", "a\nb", "..", "-x", "Bob", "a/../b"]) {
      const h = await one(ops, "exec", ["greet", who]);
      assert.equal(h.exit, 64, `${JSON.stringify(who)}: ${h.short}`);
    }
    assert.equal((await one(ops, "exec", ["greet"])).exit, 64);
    assert.equal((await one(ops, "exec", ["__proto__"])).exit, 64);
    for (const name of ["../../etc/passwd", "__proto__", "/etc/passwd"])
      assert.equal((await one(ops, "log", [name])).exit, 64, name);
    assert.equal((await one(ops, "log", ["app", "5;id"])).exit, 64);
    assert.equal(sysv.calls().length, sysvBefore);
    assert.equal(greeter.calls().length, greetBefore);
    assert.equal((await one(ops, "exec", ["greet", "bob"])).exit, 0);
    assert.deepEqual(greeter.calls().at(-1), ["--name", "bob"]);
  });

  test("principals and end users: a read-only signer cannot restart anything", async () => {
    const before = sysv.calls().length;
    const restart = await one(voice, "service", ["nginx.service", "restart"]);
    assert.equal(restart.status, "failed");
    assert.equal(restart.exit, 77);
    assert.equal(restart.output?.["refused"], true);
    assert.match(
      restart.short,
      /principal "voice" on behalf of "alice" may not call "service" "nginx.service" "restart"/,
    );
    assert.equal(sysv.calls().length, before);
    assert.equal((await one(voice, "service", ["nginx.service", "status"])).exit, 0);
    assert.deepEqual(sysv.calls().at(-1), ["nginx", "status"]);
    assert.equal((await one(voice, "exec", ["greet", "bob"])).exit, 77);
    writeFileSync(appLog, "one\ntwo\n");
    assert.equal((await one(voice, "log", ["app"], ["svc1"], "alice")).exit, 0);
    assert.equal((await one(voice, "log", ["app"], ["svc1"], "mallory")).exit, 77);
  });

  test("a hanging command is killed at its timeout together with its children", async () => {
    for (const script of [hang, hangHard]) {
      const h = await one(ops, "exec", [script === hang ? "hang" : "hang-hard"]);
      assert.equal(h.exit, 124, h.short);
      assert.equal(h.output?.["timedOut"], true);
      const child = Number(readFileSync(script.pidFile, "utf8").trim());
      assert.ok(child > 0);
      await waitFor(`sleeping child ${child} to die`, () => processGone(child), 5_000);
    }
  });

  test("output is capped to the last bytes with a truncated flag", async () => {
    const h = await one(ops, "exec", ["flood"]);
    assert.equal(h.exit, 0);
    const stdout = String(h.output?.["stdout"]);
    assert.equal(h.output?.["truncated"], true);
    assert.ok(Buffer.byteLength(stdout) <= 1_024, `${Buffer.byteLength(stdout)} bytes`);
    assert.match(stdout, /99999\n100000\n$/);
    assert.equal((await one(ops, "exec", ["greet", "amy"])).output?.["truncated"], false);
  });

  test("log tails an allow-listed file by name; pull reports exit, duration and its log", async () => {
    writeFileSync(appLog, Array.from({ length: 400 }, (_, i) => `line ${i + 1}`).join("\n") + "\n");
    const tail = await one(ops, "log", ["app", "3"]);
    assert.deepEqual(tail.output?.["lines"], ["line 398", "line 399", "line 400"]);
    const capped = await one(ops, "log", ["app", "400"]);
    assert.equal(capped.output?.["truncated"], true);
    assert.equal((capped.output?.["lines"] as string[]).at(-1), "line 400");
    const pull = await one(ops, "pull", []);
    assert.equal(pull.exit, 3);
    assert.match(pull.short, /^pull: exit 3 \(converging\)$/);
    assert.equal(typeof pull.output?.["durationMs"], "number");
    assert.deepEqual((pull.output?.["log"] as string[])[1], "1 changed");
  });
});
