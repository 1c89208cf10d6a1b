/**
 * The fleet registry as provisioning's host directory (addresses and port from facts, shared
 * reads) and the first-boot watcher over it (each new host once, retries only transient errors).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { NodeInfo } from "../../executors/fleet/types.ts";
import { InvalidHostError } from "../../executors/provision/errors.ts";
import type { FirstBootResult, Registration } from "../../executors/provision/first-boot.ts";
import { createFleetHostDirectory, knownHostOf } from "../../executors/provision/fleet-hosts.ts";
import { createStaticHostDirectory, type KnownHost } from "../../executors/provision/hosts.ts";
import { RegistrationWatcher } from "../../executors/provision/registrations.ts";
import { silentLogger } from "../../lib/log.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";

function node(hostname: string, facts: Record<string, string>): NodeInfo {
  return {
    hostname,
    facts,
    fingerprint: "SHA256:x",
    publicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx",
    version: "0.1.0",
    lastSeen: "2026-01-01T00:00:00.000Z",
    state: "accepted",
  };
}

const host = (hostname: string, role = "web"): KnownHost => ({
  hostname,
  addresses: [],
  publicKey: "ssh-ed25519 AAAA",
  facts: { role },
});

describe("fleet host directory", () => {
  test("addresses come from the addresses fact, a port from ssh_port; junk is dropped", () => {
    const h = knownHostOf(
      node("web01", {
        addresses: "10.0.0.1, ::FFFF:10.0.0.2,web01.lan,,fe80::1,10.0.0.1",
        ssh_port: "2222",
      }),
    );
    assert.deepEqual(h.addresses, ["10.0.0.1", "10.0.0.2", "fe80::1"]);
    assert.equal(h.sshPort, 2222);
    assert.equal(h.publicKey, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBx");
    for (const bad of ["0", "65536", "22x", "-1"])
      assert.equal(knownHostOf(node("a", { ssh_port: bad })).sshPort, undefined, bad);
    assert.deepEqual(knownHostOf(node("a", {})).addresses, []);
  });

  test("concurrent callers share one registry read; a failed read is not kept", async () => {
    let reads = 0;
    let fail = false;
    let release: () => void = () => undefined;
    const source = {
      async nodes() {
        reads++;
        await new Promise<void>((r) => (release = r));
        if (fail) throw new Error("redis down");
        return [node("web01", { addresses: "10.0.0.1" })];
      },
    };
    const directory = createFleetHostDirectory(source);
    const both = Promise.all([directory.list(), directory.list()]);
    release();
    const [a, b] = await both;
    assert.equal(reads, 1);
    assert.equal(a, b);
    fail = true;
    const failing = directory.list();
    release();
    await assert.rejects(failing, /redis down/);
    fail = false;
    const again = directory.list();
    release();
    assert.equal((await again).length, 1);
    assert.equal(reads, 3, "every call after a finished read reads again (maxAgeMs 0)");
  });

  test("with maxAgeMs a finished read is reused until it is that old", async () => {
    let reads = 0;
    let clock = 0;
    const directory = createFleetHostDirectory(
      { nodes: async () => (reads++, []) },
      { maxAgeMs: 1_000, now: () => clock },
    );
    await directory.list();
    clock = 999;
    await directory.list();
    assert.equal(reads, 1);
    clock = 1_000;
    await directory.list();
    assert.equal(reads, 2);
  });
});

describe("first-boot registration watcher", () => {
  test("each new host is handed to first boot once; a host that comes back is handed again", async () => {
    let hosts = [host("web01"), host("db01", "db")];
    const calls: string[] = [];
    const watcher = new RegistrationWatcher({
      directory: createStaticHostDirectory(() => hosts),
      firstBoot: async (r: Registration): Promise<FirstBootResult> => {
        calls.push(r.hostname);
        return { status: "no-playbook" };
      },
      pollMs: 60_000,
      logger: silentLogger,
    });
    await watcher.poll();
    await watcher.poll();
    assert.deepEqual(calls, ["web01", "db01"]);
    hosts = [host("db01", "db")];
    await watcher.poll();
    hosts = [host("db01", "db"), host("web01")];
    await watcher.poll();
    assert.deepEqual(calls, ["web01", "db01", "web01"]);
  });

  test("transient failures are retried next poll; refusals are not", async () => {
    const metrics = new MetricsRegistry();
    const attempts = new Map<string, number>();
    const watcher = new RegistrationWatcher({
      directory: createStaticHostDirectory([host("flaky"), host("bad_host")]),
      firstBoot: async (r) => {
        attempts.set(r.hostname, (attempts.get(r.hostname) ?? 0) + 1);
        if (r.hostname === "bad_host") throw new InvalidHostError(r.hostname, "is not a hostname");
        if ((attempts.get(r.hostname) ?? 0) < 2) throw new Error("connection reset");
        return { status: "queued", jobId: "prov-1", playbook: "web" };
      },
      pollMs: 60_000,
      logger: silentLogger,
      metrics,
    });
    await watcher.poll();
    await watcher.poll();
    await watcher.poll();
    assert.deepEqual(Object.fromEntries(attempts), { flaky: 2, bad_host: 1 });
    const text = metrics.render();
    assert.match(text, /commodore_provision_first_boot_total\{result="queued"\} 1/);
    assert.match(text, /commodore_provision_first_boot_total\{result="refused"\} 1/);
    assert.match(text, /commodore_provision_first_boot_total\{result="error"\} 1/);
  });

  test("a failing registry read is survived; start and stop are clean", async () => {
    const watcher = new RegistrationWatcher({
      directory: { list: async () => Promise.reject(new Error("redis down")) },
      firstBoot: async () => ({ status: "no-playbook" }),
      pollMs: 10,
      logger: silentLogger,
    });
    watcher.start();
    await watcher.poll();
    await watcher.stop();
  });
});
