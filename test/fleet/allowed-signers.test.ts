import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  AllowedSignersError,
  loadAllowedSigners,
  loadAllowedSignersAsync,
  MAX_ALLOWED_SIGNERS_BYTES,
  MAX_ALLOWED_SIGNERS_LINE_LENGTH,
  MAX_ALLOWED_SIGNERS_LINES,
  parseAllowedSigners,
} from "../../executors/fleet/protocol/allowed-signers.ts";
import { parsePublicKeyLine } from "../../executors/fleet/protocol/keys.ts";
import { makeKey, randomEd25519Line } from "../harness/ssh-keys.ts";
import { tempDir } from "../harness/tmp.ts";

const NS = "commodore-request@commodore";

describe("allowed_signers", () => {
  const a = makeKey("ed25519");
  const b = makeKey("ecdsa");
  const blobA = parsePublicKeyLine(a.publicLine).blob;
  const blobB = parsePublicKeyLine(b.publicLine).blob;
  const now = Date.UTC(2025, 5, 1);

  test("principals (with globs), namespaces and validity are enforced per key", () => {
    const signers = parseAllowedSigners(
      [
        "# controllers",
        `ops,deploy-* namespaces="${NS}" ${a.publicLine}`,
        `"backup" namespaces="other@x",valid-after="20250101",valid-before="20250301Z" ${b.publicLine}`,
        "",
      ].join("\n"),
    );
    assert.equal(signers.entries.length, 2);
    assert.equal(signers.check(blobA, "ops", NS, now), undefined);
    assert.equal(signers.check(blobA, "deploy-eu", NS, now), undefined);
    assert.equal(signers.check(blobA, "mallory", NS, now), "principal_mismatch");
    assert.equal(
      signers.check(blobA, "ops", "commodore-reply@commodore", now),
      "namespace_not_allowed",
    );
    assert.equal(signers.check(blobB, "backup", NS, now), "namespace_not_allowed");
    assert.equal(signers.check(blobB, "backup", "other@x", Date.UTC(2025, 1, 1)), undefined);
    assert.equal(signers.check(blobB, "backup", "other@x", now), "key_not_valid_now");
    assert.equal(
      signers.check(parsePublicKeyLine(makeKey().publicLine).blob, "ops", NS, now),
      "unknown_signer",
    );
  });

  test("bad lines fail with the line number", () => {
    assert.throws(
      () => parseAllowedSigners(`ops ssh-ed25519 AAAAnotakey`),
      (e: Error) => e instanceof AllowedSignersError && /^allowed_signers:1: /.test(e.message),
    );
    assert.throws(
      () => parseAllowedSigners(`\nops cert-authority ${a.publicLine}`, "/etc/x/allowed_signers"),
      { message: "/etc/x/allowed_signers:2: cert-authority keys are not supported" },
    );
    assert.throws(() => parseAllowedSigners(`ops bogus-option ${a.publicLine}`), /unknown option/);
    assert.throws(
      () => parseAllowedSigners(`ops valid-after="yesterday" ${a.publicLine}`),
      /YYYYMMDD/,
    );
  });

  test("a 200 000-line, 25 MB file is refused at the line that passes 4 MiB, naming the file", async () => {
    const file = join(tempDir(), "allowed_signers");
    const entry = `ops namespaces="${NS}" ${a.publicLine}\n`;
    const lines = 200_000;
    writeFileSync(file, entry.repeat(lines));
    const passing = Math.floor(MAX_ALLOWED_SIGNERS_BYTES / entry.length) + 1;
    assert.ok(passing < lines);
    for (const load of [loadAllowedSigners, loadAllowedSignersAsync])
      await assert.rejects(async () => load(file), {
        name: "AllowedSignersError",
        code: "E_FLEET_ALLOWED_SIGNERS",
        message: `${file}:${passing}: the file is larger than 4 MiB, the most it may hold`,
      });
  });

  test("too many lines or a line too long is refused with the file and line", () => {
    const dir = tempDir();
    const many = join(dir, "many");
    writeFileSync(many, `ops ${a.publicLine}\n${"\n".repeat(MAX_ALLOWED_SIGNERS_LINES)}`);
    assert.throws(() => loadAllowedSigners(many), {
      message: `${many}:${MAX_ALLOWED_SIGNERS_LINES + 1}: more than ${MAX_ALLOWED_SIGNERS_LINES} lines, the most the file may have`,
    });
    const principals = "p,".repeat(MAX_ALLOWED_SIGNERS_LINE_LENGTH / 2);
    assert.throws(() => parseAllowedSigners(`# ok\n${principals} ${a.publicLine}`), {
      message: new RegExp(
        `^allowed_signers:2: the line is \\d+ characters long, longer than the ${MAX_ALLOWED_SIGNERS_LINE_LENGTH} a line may be$`,
      ),
    });
    const options = `ops ${"x ".repeat(4_000)}${a.publicLine}`;
    assert.throws(
      () => parseAllowedSigners(options),
      /^AllowedSignersError: allowed_signers:1: unknown option "x"/,
    );
  });

  test("a FIFO, a device or a directory in its place is refused without waiting", async () => {
    const dir = tempDir();
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    for (const [path, kind] of [
      [fifo, "a FIFO"],
      ["/dev/zero", "a device"],
      [dir, "a directory"],
    ] as const)
      await assert.rejects(loadAllowedSignersAsync(path), {
        message: `cannot read ${path}: not a regular file (${kind})`,
      });
  });

  test("16 000 lines of one key, and of distinct keys, are all indexed", async () => {
    const file = join(tempDir(), "allowed_signers");
    const lines = 16_000;
    const same = Array.from(
      { length: lines },
      (_, i) => `ops${i} namespaces="${NS}" ${a.publicLine}`,
    );
    const distinct = Array.from({ length: lines }, () => randomEd25519Line());
    const last = distinct.at(-1) ?? "";
    writeFileSync(file, [...same, ...distinct.map((k, i) => `host${i} ${k}`)].join("\n"));
    for (const signers of [loadAllowedSigners(file), await loadAllowedSignersAsync(file)]) {
      assert.equal(signers.entries.length, 2 * lines);
      assert.equal(signers.check(blobA, `ops${lines - 1}`, NS, now), undefined);
      assert.equal(signers.check(blobA, `ops${lines}`, NS, now), "principal_mismatch");
      const lastBlob = parsePublicKeyLine(last).blob;
      assert.equal(signers.check(lastBlob, `host${lines - 1}`, NS, now), undefined);
      assert.equal(signers.check(lastBlob, "host0", NS, now), "principal_mismatch");
    }
  });

  test("an aborted reload stops between two slices and throws the abort's reason", async () => {
    const file = join(tempDir(), "allowed_signers");
    writeFileSync(
      file,
      Array.from({ length: 5_000 }, () => `ops ${randomEd25519Line()}`).join("\n"),
    );
    const abort = new AbortController();
    const reason = new Error("stopping");
    const loading = loadAllowedSignersAsync(file, abort.signal);
    abort.abort(reason);
    await assert.rejects(loading, (err) => err === reason);
  });
});
