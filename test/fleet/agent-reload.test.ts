/**
 * A real `commodore agent` process (bin/commodore.js) whose allowed_signers is replaced by a
 * large or hostile file and reloaded with SIGHUP, as `systemctl reload` does: it refuses what is
 * over the limits or not a file, keeps answering the controller it trusted, and a SIGTERM during
 * a long reload stops it within 2 s (before: a 200 000-line file held an agent at 100 % CPU for
 * 18 minutes, deaf to SIGTERM; a FIFO blocked its read forever).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { MAX_ALLOWED_SIGNERS_BYTES } from "../../executors/fleet/protocol/allowed-signers.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { spawnCommodore } from "../harness/commodore-process.ts";
import { waitFor } from "../harness/ports.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { tempDir } from "../harness/tmp.ts";
import { context } from "./helpers.ts";

/** How long a stopping agent may take after SIGTERM (the bound). */
const STOP_WITHIN_MS = 2_000;
const HOSTNAME = "reload01";

describe("commodore agent reloading a large or hostile allowed_signers", () => {
  let fleet: TestFleet;
  before(async () => {
    fleet = await startFleet([]);
  });
  after(() => fleet.stop());

  test("refuses it naming file and line, answers on its last good copy, stops on SIGTERM within 2 s", async () => {
    const dir = tempDir("commodore-reload-");
    const signers = join(dir, "allowed_signers");
    copyFileSync(fleet.allowedSignersPath, signers);
    /** Puts `write`'s file in place of allowed_signers at once, as an editor or deploy would. */
    const replace = (write: (path: string) => void) => {
      const next = join(dir, "next");
      write(next);
      renameSync(next, signers);
    };
    const key = makeKey("ed25519", HOSTNAME);
    const agent = spawnCommodore(
      [
        "agent",
        "--redis",
        fleet.redis.url,
        "--host-key",
        key.privatePath,
        "--allowed-signers",
        signers,
        "--hostname",
        HOSTNAME,
      ],
      { PATH: process.env["PATH"] },
    );
    await waitFor("the agent to serve", () => agent.out.stdout.includes("serving"));
    const controller = fleet.controller();
    const answers = async () => {
      const result = await controller.execute({ provider: "ping", args: [], where: {} }, context());
      return result.hosts.map((h) => [h.hostname, h.status]);
    };
    assert.deepEqual(await answers(), [[HOSTNAME, "ok"]]);

    // 200 000 lines, 25 MB, of a key nobody trusts.
    const mallory = makeKey("ed25519", "mallory");
    const entry = `ops namespaces="commodore-request@commodore" ${mallory.publicLine}\n`;
    replace((path) => writeFileSync(path, entry.repeat(200_000)));
    agent.child.kill("SIGHUP");
    const passing = Math.floor(MAX_ALLOWED_SIGNERS_BYTES / entry.length) + 1;
    const refusal = `${signers}:${passing}: the file is larger than 4 MiB, the most it may hold`;
    await waitFor("the huge file's refusal", () => agent.out.stderr.includes(refusal));
    assert.match(agent.out.stderr, /allowed_signers reload failed; keeping the previous list/);
    assert.deepEqual(await answers(), [[HOSTNAME, "ok"]], "the old copy still trusts ops");

    // A FIFO nobody writes to: reading it would wait forever.
    rmSync(signers);
    execFileSync("mkfifo", [signers]);
    agent.child.kill("SIGHUP");
    await waitFor("the FIFO's refusal", () =>
      agent.out.stderr.includes(`cannot read ${signers}: not a regular file (a FIFO)`),
    );
    assert.deepEqual(await answers(), [[HOSTNAME, "ok"]]);

    // Within the limits and valid, but long to parse (45 000 lines of one key, which used to
    // cost time quadratic in the lines): SIGTERM in the middle of the reload.
    replace((path) => writeFileSync(path, `o ${mallory.publicLine}\n`.repeat(45_000)));
    agent.child.kill("SIGHUP");
    await new Promise((resolve) => setTimeout(resolve, 50));
    const sent = performance.now();
    agent.child.kill("SIGTERM");
    const code = await agent.exited;
    const took = performance.now() - sent;
    assert.equal(code, 0, agent.out.stderr);
    assert.ok(took < STOP_WITHIN_MS, `stopped ${Math.round(took)} ms after SIGTERM`);
  });
});
