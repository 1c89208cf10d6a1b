/**
 * Spawns a private, real `ngircd` on a free loopback port for one test file.
 *
 * The generated configuration disables PAM, DNS and IDENT lookups (so registration is instant)
 * and leaves ngIRCd's flood protection at its defaults, so tests that send many lines exercise
 * the real "Excess Flood" behaviour. The process is killed by `stop()` or at process exit.
 */
import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { freePort, waitFor } from "./ports.ts";
import { restartable, spawnTracked, type Restartable } from "./process.ts";
import { tempDir } from "./tmp.ts";

/** Where the Debian package installs the daemon. */
const NGIRCD_BIN = "/usr/sbin/ngircd";
/** Server name clients see as the message prefix. */
export const NGIRCD_SERVER_NAME = "irc.commodore.test";
/** Long enough for `commodore-observer` style nicks. */
const MAX_NICK_LENGTH = 30;
/** How long to wait for the daemon to accept connections. */
const START_TIMEOUT_MS = 10_000;

/**
 * A running test ngIRCd; `restart` starts it on the same port, and a `hard` stop (SIGKILL)
 * looks like a crash or netsplit to clients.
 */
export interface TestIrcd extends Restartable {
  readonly host: string;
  readonly port: number;
}

function writeConfig(dir: string, port: number): string {
  const path = join(dir, "ngircd.conf");
  const runAs = process.getuid?.() === 0 ? ["\tServerUID = nobody", "\tServerGID = nogroup"] : [];
  const lines = [
    "[Global]",
    `\tName = ${NGIRCD_SERVER_NAME}`,
    "\tInfo = Commodore test server",
    "\tListen = 127.0.0.1",
    `\tPorts = ${port}`,
    '\tMotdPhrase = "commodore test"',
    `\tPidFile = ${join(dir, "ngircd.pid")}`,
    ...runAs,
    "[Limits]",
    `\tMaxNickLength = ${MAX_NICK_LENGTH}`,
    "\tMaxConnectionsIP = 0",
    "\tMaxJoins = 0",
    "[Options]",
    "\tPAM = no",
    "\tDNS = no",
    "\tIdent = no",
    "",
  ];
  writeFileSync(path, lines.join("\n"));
  return path;
}

async function accepts(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const sock = connect({ host: "127.0.0.1", port });
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });
}

async function launch(config: string, port: number): Promise<ChildProcess> {
  const child = spawnTracked(NGIRCD_BIN, ["--nodaemon", "--passive", "--config", config], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  const stderr: string[] = [];
  child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  try {
    await waitFor(
      `ngircd on port ${port}`,
      async () => {
        if (child.exitCode !== null) throw new Error("exited");
        return await accepts(port);
      },
      START_TIMEOUT_MS,
    );
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`ngircd did not start: ${stderr.join("")}`, { cause: err });
  }
  return child;
}

/** Starts a real ngIRCd for a test. */
export async function startIrcd(): Promise<TestIrcd> {
  const port = await freePort();
  const config = writeConfig(tempDir("commodore-ngircd-"), port);
  const child = await launch(config, port);
  return {
    host: "127.0.0.1",
    port,
    ...restartable("ngircd", child, () => launch(config, port)),
  };
}
