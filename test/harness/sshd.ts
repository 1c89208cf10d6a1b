/**
 * Spawns a REAL OpenSSH server on a free loopback port for one test file: its own generated
 * host key, one authorised client key, listening on 127.0.0.1 and any extra 127.0.0.x
 * addresses asked for. The login user is the current user (root here).
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "./ports.ts";
import { spawnTracked, stopChild } from "./process.ts";
import { makeKey, type TestKey } from "./ssh-keys.ts";
import { tempDir } from "./tmp.ts";

const SSHD = "/usr/sbin/sshd";
const PRIVSEP_DIR = "/run/sshd";
const LOG_TAIL = 4_000;
const MAX_LISTEN_SOCKS = 16;

/** A running test sshd. */
export interface TestSshd {
  readonly port: number;
  /** The addresses it listens on. */
  readonly addresses: readonly string[];
  /** Its host key pair (the public line is what an agent would register). */
  readonly hostKey: TestKey;
  /** The key authorised to log in. */
  readonly clientKey: TestKey;
  readonly user: string;
  /** Recent sshd stderr, for debugging failed tests. */
  logTail(): string;
  stop(): Promise<void>;
}

async function canConnect(host: string, port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const sock = connect({ host, port }, () => {
      sock.destroy();
      resolve(true);
    });
    sock.on("error", () => resolve(false));
  });
}

/** Starts sshd; `extraAddresses` such as `127.0.0.2` are added to 127.0.0.1. */
export async function startSshd(extraAddresses: readonly string[] = []): Promise<TestSshd> {
  mkdirSync(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
  const dir = tempDir("commodore-sshd-");
  const port = await freePort();
  const hostKey = makeKey("ed25519", "test-host");
  const clientKey = makeKey("ed25519", "test-client");
  const user = userInfo().username;
  const addresses = ["127.0.0.1", ...extraAddresses];
  const authorized = join(dir, "authorized_keys");
  writeFileSync(authorized, clientKey.publicLine + "\n", { mode: 0o600 });
  // sshd binds at most 16 listen sockets (MAX_LISTEN_SOCKS): run one process per 16 addresses.
  const children: ChildProcess[] = [];
  let tail = "";
  for (let i = 0; i * MAX_LISTEN_SOCKS < addresses.length; i++) {
    const chunk = addresses.slice(i * MAX_LISTEN_SOCKS, (i + 1) * MAX_LISTEN_SOCKS);
    const config = join(dir, `sshd_config.${i}`);
    writeFileSync(
      config,
      [
        `Port ${port}`,
        ...chunk.map((a) => `ListenAddress ${a}`),
        `HostKey ${hostKey.privatePath}`,
        `AuthorizedKeysFile ${authorized}`,
        `PidFile ${join(dir, `sshd.${i}.pid`)}`,
        "UsePAM no",
        "StrictModes no",
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        `AllowUsers ${user}`,
        "Subsystem sftp internal-sftp",
        "MaxStartups 100:30:200",
        "",
      ].join("\n"),
    );
    const child = spawnTracked(SSHD, ["-D", "-e", "-f", config], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr?.on("data", (d: Buffer) => {
      tail = (tail + d.toString("utf8")).slice(-LOG_TAIL);
    });
    children.push(child);
  }
  const stopAll = async () => {
    await Promise.all(children.map((c) => stopChild(c, "SIGTERM")));
  };
  try {
    await waitFor(`sshd on port ${port}`, async () => {
      const dead = children.find((c) => c.exitCode !== null);
      if (dead) return true;
      const all = await Promise.all(addresses.map((a) => canConnect(a, port)));
      return all.every(Boolean);
    });
  } catch (err) {
    await stopAll();
    throw err;
  }
  if (children.some((c) => c.exitCode !== null)) {
    await stopAll();
    throw new Error(`sshd exited at start: ${tail}`);
  }
  return {
    port,
    addresses,
    hostKey,
    clientKey,
    user,
    logTail: () => tail,
    stop: stopAll,
  };
}
