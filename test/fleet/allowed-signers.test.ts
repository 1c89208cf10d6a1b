import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AllowedSignersError,
  parseAllowedSigners,
} from "../../executors/fleet/protocol/allowed-signers.ts";
import { parsePublicKeyLine } from "../../executors/fleet/protocol/keys.ts";
import { makeKey } from "../harness/ssh-keys.ts";

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
      (e: Error) => e instanceof AllowedSignersError && /line 1/.test(e.message),
    );
    assert.throws(
      () => parseAllowedSigners(`\nops cert-authority ${a.publicLine}`),
      /line 2: cert-authority/,
    );
    assert.throws(() => parseAllowedSigners(`ops bogus-option ${a.publicLine}`), /unknown option/);
    assert.throws(
      () => parseAllowedSigners(`ops valid-after="yesterday" ${a.publicLine}`),
      /YYYYMMDD/,
    );
  });
});
