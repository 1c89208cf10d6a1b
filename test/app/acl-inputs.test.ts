/**
 * The Redis ACL's inputs, its password files, are read within bounds: one line of at most
 * 4 KiB from a regular file, so neither a huge file nor a FIFO in a password's place holds
 * `commodore redis-acl` or the embedded Redis's start-up, and every refusal names the file.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ensurePasswordFile, MAX_PASSWORD_FILE_BYTES } from "../../app/redis-acl.ts";
import { main } from "../../cli/main.ts";
import { OptionsError } from "../../lib/errors.ts";
import { tempDir } from "../harness/tmp.ts";

describe("Redis ACL password files", () => {
  test("a password file of more than one line is refused at its second line", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "bot.password"), "\n\n  s3cret\nsecond line\n");
    assert.throws(() => ensurePasswordFile(dir, "bot", "hint"), {
      name: "OptionsError",
      message: `${join(dir, "bot.password")}:4: more than one line`,
    });
    writeFileSync(join(dir, "agent.password"), "\n  s3cret  \n\n");
    assert.equal(ensurePasswordFile(dir, "agent", "hint").password, "s3cret");
  });

  test("a huge file, a FIFO or a directory in a password's place is refused at once", async () => {
    const dir = tempDir();
    const bot = join(dir, "bot.password");
    writeFileSync(bot, "x".repeat(10 * MAX_PASSWORD_FILE_BYTES));
    assert.throws(() => ensurePasswordFile(dir, "bot", "hint"), {
      message: `${bot}:1: the file is larger than 4 KiB, the most it may hold`,
    });
    const agent = join(dir, "agent.password");
    execFileSync("mkfifo", [agent]);
    assert.throws(
      () => ensurePasswordFile(dir, "agent", "choose a writable --password-dir"),
      (err: unknown) =>
        err instanceof OptionsError &&
        err.message === `cannot read ${agent}: not a regular file (a FIFO)` &&
        err.hint === "choose a writable --password-dir",
    );
    const replica = join(dir, "replica.password");
    mkdirSync(replica);
    assert.throws(() => ensurePasswordFile(dir, "replica", "hint"), {
      message: `cannot read ${replica}: not a regular file (a directory)`,
    });
    let stderr = "";
    const code = await main(["redis-acl", "--password-dir", dir, "--replicas"], {
      stdout: () => undefined,
      stderr: (t) => void (stderr += t),
      env: {},
      signal: new AbortController().signal,
    });
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`^commodore: ${bot}:1: the file is larger than 4 KiB`, "m"));
  });
});
