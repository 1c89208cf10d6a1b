import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadPrivateKey } from "../../executors/fleet/protocol/keys.ts";
import {
  armorSshsig,
  dearmorSshsig,
  signSshsig,
  verifySshsig,
  verifySshsigAsync,
} from "../../executors/fleet/protocol/sshsig.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { tempDir } from "../harness/tmp.ts";

const NS = "commodore-request@commodore";
const MESSAGE = '{"protocol":1,"type":"request","note":"ünïcode"}';

for (const type of ["ed25519", "ecdsa", "rsa"] as const) {
  describe(`SSHSIG with ${type} keys`, () => {
    const key = makeKey(type, `${type}-signer`);
    const dir = tempDir();
    const msgPath = join(dir, "msg");
    writeFileSync(msgPath, MESSAGE);
    const allowed = join(dir, "allowed_signers");
    writeFileSync(allowed, `ops ${key.publicLine}\n`);

    test("a signature Commodore makes verifies with ssh-keygen -Y verify", () => {
      const sigPath = join(dir, "ours.sig");
      writeFileSync(sigPath, armorSshsig(signSshsig(loadPrivateKey(key.privatePath), NS, MESSAGE)));
      const out = execFileSync(
        "ssh-keygen",
        ["-Y", "verify", "-f", allowed, "-I", "ops", "-n", NS, "-s", sigPath],
        {
          input: MESSAGE,
        },
      ).toString();
      assert.match(out, /^Good "commodore-request@commodore" signature for ops/);
    });

    test("ssh-keygen rejects it for another namespace or another message", () => {
      const sigPath = join(dir, "ours2.sig");
      writeFileSync(sigPath, armorSshsig(signSshsig(loadPrivateKey(key.privatePath), NS, MESSAGE)));
      const verify = (ns: string, input: string) =>
        assert.throws(() =>
          execFileSync(
            "ssh-keygen",
            ["-Y", "verify", "-f", allowed, "-I", "ops", "-n", ns, "-s", sigPath],
            { input, stdio: "pipe" },
          ),
        );
      verify("commodore-reply@commodore", MESSAGE);
      verify(NS, `${MESSAGE} `);
    });

    test("a signature made by ssh-keygen -Y sign verifies with Commodore", () => {
      execFileSync("ssh-keygen", ["-Y", "sign", "-f", key.privatePath, "-n", NS, msgPath], {
        stdio: "pipe",
      });
      const blob = dearmorSshsig(readFileSync(`${msgPath}.sig`, "utf8"));
      const ok = verifySshsig(blob, NS, MESSAGE);
      assert.equal(ok.ok, true);
      assert.equal(ok.ok && ok.key.line, key.publicLine.split(" ").slice(0, 2).join(" "));
      const tampered = verifySshsig(blob, NS, MESSAGE.replace("1", "2"));
      assert.deepEqual(tampered.ok ? "ok" : tampered.reason, "bad_signature");
      const wrongNs = verifySshsig(blob, "commodore-reply@commodore", MESSAGE);
      assert.deepEqual(wrongNs.ok ? "ok" : wrongNs.reason, "wrong_namespace");
    });

    test("the thread-pool verifier reaches the same verdicts as the in-thread one", async () => {
      const blob = signSshsig(loadPrivateKey(key.privatePath), NS, MESSAGE);
      const cases: [Buffer, string, string][] = [
        [blob, NS, MESSAGE],
        [blob, NS, `${MESSAGE} `],
        [blob, "commodore-reply@commodore", MESSAGE],
        [blob.subarray(0, blob.length - 1), NS, MESSAGE],
      ];
      const verdict = (r: { ok: boolean; reason?: string }) => (r.ok ? "ok" : r.reason);
      const got = await Promise.all(cases.map(([b, ns, m]) => verifySshsigAsync(b, ns, m)));
      assert.deepEqual(
        got.map(verdict),
        cases.map(([b, ns, m]) => verdict(verifySshsig(b, ns, m))),
      );
      assert.deepEqual(got.map(verdict), [
        "ok",
        "bad_signature",
        "wrong_namespace",
        "malformed_signature",
      ]);
    });
  });
}

describe("SSHSIG hostile input", () => {
  test("garbage, truncated and bit-flipped blobs are rejected without throwing", () => {
    const key = loadPrivateKey(makeKey("ed25519").privatePath);
    const blob = signSshsig(key, NS, MESSAGE);
    const reason = (b: Buffer) => {
      const r = verifySshsig(b, NS, MESSAGE);
      return r.ok ? "ok" : r.reason;
    };
    assert.equal(reason(blob), "ok");
    assert.equal(reason(Buffer.from("not a signature at all")), "malformed_signature");
    assert.equal(reason(blob.subarray(0, blob.length - 5)), "malformed_signature");
    assert.equal(reason(Buffer.alloc(0)), "malformed_signature");
    const flipped = Buffer.from(blob);
    flipped[flipped.length - 3] = (flipped[flipped.length - 3] ?? 0) ^ 0xff;
    assert.equal(reason(flipped), "bad_signature");
  });

  test("the thread-pool verifier rejects the same hostile blobs", async () => {
    const key = loadPrivateKey(makeKey("ed25519").privatePath);
    const blob = signSshsig(key, NS, MESSAGE);
    const flipped = Buffer.from(blob);
    flipped[flipped.length - 3] = (flipped[flipped.length - 3] ?? 0) ^ 0xff;
    const reasons = await Promise.all(
      [Buffer.from("junk"), Buffer.alloc(0), flipped, blob].map(async (b) => {
        const r = await verifySshsigAsync(b, NS, MESSAGE);
        return r.ok ? "ok" : r.reason;
      }),
    );
    assert.deepEqual(reasons, [
      "malformed_signature",
      "malformed_signature",
      "bad_signature",
      "ok",
    ]);
  });
});
