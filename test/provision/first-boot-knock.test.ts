/**
 * First boot and knocks in the running bot, with real parts: a new agent whose role maps to a
 * playbook is not provisioned while its key is pending, then exactly once after `nodes accept`
 * (also across a bot restart), and a knock recorded by
 * the real `commodore provision-hook <ip>` while the bot is down is run after it starts again.
 * Two ansible runs.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { createFleetHostDirectory } from "../../executors/provision/fleet-hosts.ts";
import { waitFor } from "../harness/ports.ts";
import { startProvisionStack, TOKENS, type ProvisionStack } from "../harness/provision-stack.ts";

const run = promisify(execFile);
const BIN = join(import.meta.dirname, "../../bin/commodore.js");
/** Poll HTTP gently: the per-principal rate limit applies to tests too. */
const POLL_MS = 250;
const RUN_TIMEOUT_MS = 20_000;
/** Long enough for several first-boot polls (pollMs 100). */
const PENDING_WAIT_MS = 600;

interface JobBody {
  readonly lines?: string[];
  readonly result?: { data?: { provision?: { state: string; host: string; trigger: string } } };
}

describe("first boot and knocks in the running bot", () => {
  let stack: ProvisionStack;

  before(async () => {
    stack = await startProvisionStack({
      addresses: ["127.0.0.2", "127.0.0.3"],
      controller: { enrollment: "manual" },
      provision: {
        defaultPlaybook: "marker",
        firstBoot: { factKey: "role", map: { db: "marker" }, pollMs: 100 },
      },
    });
  });

  after(async () => {
    await stack?.stop();
  });

  const job = async (id: string) => {
    const { status, body } = await stack.command(TOKENS.alice, `job ${id}`);
    if (status === 404) return undefined;
    assert.equal(status, 200, JSON.stringify(body));
    return (body as JobBody).result?.data?.provision;
  };
  const metric = async (line: RegExp) => {
    const res = await fetch(`${stack.services().httpUrl ?? ""}/metrics`);
    return line.test(await res.text());
  };

  test("a new agent whose role maps to a playbook is provisioned once accepted, also after a restart", async () => {
    await stack.addHost("db01", "127.0.0.2", { role: "db" });
    await stack.addHost("kiosk01", "127.0.0.3", { role: "kiosk" });
    const pending = async () =>
      ((await stack.command(TOKENS.bob, "nodes pending")).body as { lines?: string[] }).lines ?? [];
    await waitFor("db01 pending", async () => (await pending()).some((l) => l.includes("db01")));
    // Several first-boot polls pass: a key nobody accepted is never provisioned.
    await new Promise((r) => setTimeout(r, PENDING_WAIT_MS));
    assert.equal(await job("prov-1"), undefined, "a pending host is not provisioned");
    assert.equal(stack.marked("db01"), false);
    const accepted = await stack.command(TOKENS.alice, "nodes accept db01");
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    await waitFor(
      "the first-boot run of db01",
      async () => (await job("prov-1"))?.state === "succeeded",
      RUN_TIMEOUT_MS,
      POLL_MS,
    );
    const first = await job("prov-1");
    assert.equal(first?.host, "db01");
    assert.equal(first?.trigger, "first-boot");
    assert.ok(stack.marked("db01"));
    assert.equal(stack.marked("kiosk01"), false, "role=kiosk maps to no playbook");

    await stack.stopServices();
    await stack.restart();
    await waitFor(
      "db01 seen again after the restart",
      () => metric(/^commodore_provision_first_boot_total\{result="already-done"\} [1-9]/m),
      RUN_TIMEOUT_MS,
      POLL_MS,
    );
    assert.equal(await job("prov-2"), undefined, "no second run was queued");
  });

  test("a knock recorded by provision-hook while the bot is down runs once it is back", async () => {
    // The directory the bot uses sees kiosk01 with its signed, pinned key.
    const directory = createFleetHostDirectory(stack.fleet.controller());
    const hosts = await directory.list();
    assert.deepEqual(
      hosts.map((h) => [h.hostname, h.addresses]),
      [
        ["db01", ["127.0.0.2"]],
        ["kiosk01", ["127.0.0.3"]],
      ],
    );
    assert.equal(
      hosts[0]?.publicKey,
      stack.sshd.hostKey.publicLine.split(" ").slice(0, 2).join(" "),
    );

    await stack.stopServices();
    const hook = await run(process.execPath, [
      BIN,
      "provision-hook",
      "127.0.0.3",
      "--redis",
      stack.fleet.redis.url,
    ]);
    assert.match(hook.stdout, /^queued provisioning request for 127\.0\.0\.3$/m);
    await stack.restart();
    await waitFor(
      "the knock run",
      async () => (await job("prov-2"))?.state === "succeeded",
      RUN_TIMEOUT_MS,
      POLL_MS,
    );
    const knocked = await job("prov-2");
    assert.equal(knocked?.host, "kiosk01");
    assert.equal(knocked?.trigger, "knock");
    assert.ok(stack.marked("kiosk01"));
  });
});
