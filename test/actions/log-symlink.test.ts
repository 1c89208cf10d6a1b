/**
 * The `log` provider (and the tail reader under it) reads only the configured file itself: a
 * symbolic link planted as the file or as one of its directories is refused with exit 77, and
 * nothing of the file it points to ever reaches a reply. Real agents, real Redis, real files.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { FleetExecutor } from "../../executors/fleet/controller/controller.ts";
import { EXIT_NOINPUT } from "../../executors/fleet/providers/log.ts";
import { EXIT_NOPERM } from "../../executors/fleet/providers/provider.ts";
import { FileRefusedError, readTail } from "../../executors/fleet/providers/tail.ts";
import type { HostResult } from "../../executors/fleet/types.ts";
import { writeScript } from "../harness/actions.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { tempDir } from "../harness/tmp.ts";
import { context } from "../fleet/helpers.ts";

/** A canonical temporary directory (no symlink in its own path, whatever TMPDIR is). */
function realTemp(prefix: string): string {
  return realpathSync(tempDir(prefix));
}

describe("log never follows a symbolic link out of its allow-list", () => {
  const secret = `TOPSECRET-${randomBytes(8).toString("hex")}`;
  const outside = realTemp("commodore-secret-");
  const secretFile = join(outside, "shadow");
  const secretDir = join(outside, "logs");
  const logs = realTemp("commodore-logs-");
  const paths = {
    app: join(logs, "app.log"),
    /** The configured file is itself a symlink to the secret. */
    linked: join(logs, "linked.log"),
    /** The configured file's directory is a symlink to a directory of secrets. */
    viaDir: join(logs, "sub", "app.log"),
    /** A symlink to another allow-listed file is not followed either. */
    alias: join(logs, "alias.log"),
    /** Regular at first, replaced by a symlink while the agent runs. */
    swapped: join(logs, "swapped.log"),
    fifo: join(logs, "fifo.log"),
    missing: join(logs, "missing.log"),
    pull: join(logs, "pull.log"),
  };
  let fleet: TestFleet;
  let ops: FleetExecutor;

  before(async () => {
    writeFileSync(secretFile, `root:${secret}:19000:0:99999:7:::\n`);
    mkdirSync(secretDir);
    writeFileSync(join(secretDir, "app.log"), `${secret}\n`);
    writeFileSync(paths.app, "first\nsecond\n");
    symlinkSync(secretFile, paths.linked);
    symlinkSync(secretDir, join(logs, "sub"));
    symlinkSync(paths.app, paths.alias);
    writeFileSync(paths.swapped, "harmless\n");
    execFileSync("mkfifo", [paths.fifo]);
    symlinkSync(secretFile, paths.pull);
    const pullScript = writeScript(realTemp("commodore-pull-"), "pull", "echo pulled");
    fleet = await startFleet([]);
    await fleet.addAgent({
      hostname: "log1",
      options: {
        authorization: { rules: [{ principals: ["ops"], providers: ["log", "pull"] }] },
        actions: {
          log: {
            files: {
              app: paths.app,
              linked: paths.linked,
              "via-dir": paths.viaDir,
              alias: paths.alias,
              swapped: paths.swapped,
              fifo: paths.fifo,
              missing: paths.missing,
            },
          },
          pull: { argv: [pullScript], logFile: paths.pull },
        },
      },
    });
    ops = fleet.controller();
  });
  after(() => fleet.stop());

  const run = async (provider: string, args: string[]): Promise<HostResult> => {
    const result = await ops.execute(
      { provider, args, where: {}, identities: ["log1"] },
      context(),
    );
    const host = result.hosts[0];
    assert.ok(host, JSON.stringify(result));
    assert.ok(!JSON.stringify(result).includes(secret), "the secret must never be returned");
    return host;
  };

  test("a regular allow-listed file is read", async () => {
    const h = await run("log", ["app"]);
    assert.equal(h.exit, 0, h.short);
    assert.deepEqual(h.output?.["lines"], ["first", "second"]);
  });

  test("a configured file that is a symlink to a file outside is refused with 77", async () => {
    const h = await run("log", ["linked", "500"]);
    assert.equal(h.status, "failed");
    assert.equal(h.exit, EXIT_NOPERM);
    assert.equal(h.output?.["lines"], undefined);
    assert.match(h.short, /^log linked: refused: .*linked\.log is a symbolic link/);
    assert.match(h.short, /configure the file's real path/);
  });

  test("a configured file reached through a symlinked directory is refused with 77", async () => {
    const h = await run("log", ["via-dir"]);
    assert.equal(h.exit, EXIT_NOPERM);
    assert.match(h.short, /sub\/app\.log resolves to another file \(a symbolic link in its/);
  });

  test("a symlink is refused even when it points at another allow-listed file", async () => {
    const h = await run("log", ["alias"]);
    assert.equal(h.exit, EXIT_NOPERM);
    assert.match(h.short, /is a symbolic link/);
  });

  test("a file replaced by a symlink after start-up is refused at read time", async () => {
    assert.deepEqual((await run("log", ["swapped"])).output?.["lines"], ["harmless"]);
    rmSync(paths.swapped);
    symlinkSync(secretFile, paths.swapped);
    const h = await run("log", ["swapped"]);
    assert.equal(h.exit, EXIT_NOPERM);
    assert.match(h.short, /is a symbolic link/);
  });

  test("a FIFO is refused without blocking; a missing file is 66 as before", async () => {
    const fifo = await run("log", ["fifo"]);
    assert.equal(fifo.exit, EXIT_NOPERM);
    assert.match(fifo.short, /is not a regular file/);
    const missing = await run("log", ["missing"]);
    assert.equal(missing.exit, EXIT_NOINPUT);
    assert.match(missing.short, /cannot read: .*ENOENT/);
  });

  test("pull's log file is read the same way: a symlink yields an error, not its target", async () => {
    const h = await run("pull", []);
    assert.equal(h.exit, 0, h.short);
    assert.deepEqual(h.output?.["log"], []);
    assert.match(String(h.output?.["logError"]), /pull\.log is a symbolic link/);
  });

  test("readTail itself refuses both kinds of link with a typed error", async () => {
    for (const path of [paths.linked, paths.viaDir, paths.alias])
      await assert.rejects(readTail(path, 10, 4_096), FileRefusedError, path);
    assert.deepEqual((await readTail(paths.app, 1, 4_096)).lines, ["second"]);
  });
});
