/**
 * Private keys are refused when others may read them, as OpenSSH refuses them ("UNPROTECTED
 * PRIVATE KEY FILE"): with the file, its mode and the `chmod 600` to run. Keys the project
 * writes itself (`commodore keygen`, the embedded mode's generated keys, the test harness's) are
 * written 0600, so they load.
 */
import assert from "node:assert/strict";
import { chmodSync, chownSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { main } from "../../cli/main.ts";
import { loadRequestIdentities } from "../../executors/fleet/controller/security.ts";
import { ensureKeys, signerLine } from "../../executors/fleet/keygen.ts";
import { loadPrivateKey, UnprotectedKeyError } from "../../executors/fleet/protocol/keys.ts";
import { OptionsError } from "../../lib/errors.ts";
import { testSealKeyFile } from "../harness/seal.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { tempDir } from "../harness/tmp.ts";

const OWNER_ONLY = 0o600;
const PERMISSION_BITS = 0o777;
/** The uid of `nobody` on Debian. */
const NOBODY = 65_534;

const modeOf = (path: string) => statSync(path).mode & PERMISSION_BITS;

async function cli(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: {},
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}

describe("private key permissions", () => {
  test("a key group or others may access is refused with its file, mode and chmod", () => {
    const key = makeKey("ed25519", "open");
    for (const mode of [0o644, 0o640, 0o604, 0o610]) {
      chmodSync(key.privatePath, mode);
      const shown = `0${mode.toString(8)}`;
      assert.throws(
        () => loadPrivateKey(key.privatePath),
        (err: unknown) => {
          assert.ok(err instanceof UnprotectedKeyError);
          assert.equal(err.code, "E_FLEET_KEY");
          assert.equal(
            err.message,
            `UNPROTECTED PRIVATE KEY FILE: permissions ${shown} for ${key.privatePath} are too open; it is required that private key files are not accessible by others, so this key was not used`,
          );
          assert.match(err.hint ?? "", new RegExp(`^run \`chmod 600 ${key.privatePath}\``));
          return true;
        },
      );
    }
    for (const mode of [0o600, 0o400]) {
      chmodSync(key.privatePath, mode);
      assert.equal(loadPrivateKey(key.privatePath).public.fingerprint, key.fingerprint);
    }
  });

  test(
    "a key owned by another user (shared through its group) only must not be open to others",
    { skip: process.getuid?.() !== 0 && "changing a file's owner needs root" },
    () => {
      const key = makeKey("ed25519", "shared");
      chownSync(key.privatePath, NOBODY, process.getgid?.() ?? 0);
      chmodSync(key.privatePath, 0o640);
      assert.equal(loadPrivateKey(key.privatePath).public.fingerprint, key.fingerprint);
      chmodSync(key.privatePath, 0o644);
      assert.throws(() => loadPrivateKey(key.privatePath), UnprotectedKeyError);
    },
  );

  test("a signer's open key names the option; the agent refuses an open host key at start", async () => {
    const key = makeKey("ed25519", "voice");
    chmodSync(key.privatePath, 0o644);
    assert.throws(
      () =>
        loadRequestIdentities({ voice: { keyPath: key.privatePath, principal: "v" } }, "signers"),
      (err: unknown) =>
        err instanceof OptionsError &&
        err.message ===
          `signers.voice.keyPath: expected a private key file only its owner may access, found permissions 0644 for ${key.privatePath}` &&
        err.hint?.startsWith(`run \`chmod 600 ${key.privatePath}\``) === true,
    );
    assert.throws(
      () => loadRequestIdentities({ voice: { keyPath: "/dev/zero", principal: "v" } }, "signers"),
      {
        message:
          "signers.voice.keyPath: expected a readable private key file, found not a regular file (a device) for /dev/zero",
      },
    );
    const controller = makeKey("ed25519", "controller");
    const signers = join(tempDir(), "allowed_signers");
    writeFileSync(signers, `${signerLine("ops", controller.publicLine)}\n`);
    const agent = await cli([
      "agent",
      "--redis",
      "redis://127.0.0.1:1",
      "--host-key",
      key.privatePath,
      "--allowed-signers",
      signers,
    ]);
    assert.equal(agent.code, 1);
    assert.match(
      agent.stderr,
      new RegExp(
        `^commodore: UNPROTECTED PRIVATE KEY FILE: permissions 0644 for ${key.privatePath} .*\\(run \`chmod 600 ${key.privatePath}\`.*\\[E_FLEET_KEY\\]\\n$`,
      ),
    );
  });

  test("keys Commodore writes are 0600 and load, even under a permissive umask", async () => {
    const previous = process.umask(0);
    try {
      const dir = tempDir();
      const out = join(dir, "controller_ed25519");
      const made = await cli(["keygen", "--out", out]);
      assert.equal(made.code, 0, made.stderr);
      const keys = ensureKeys(join(dir, "state", "keys"));
      for (const path of [out, keys.controllerKey.privatePath, keys.hostKey.privatePath]) {
        assert.equal(modeOf(path), OWNER_ONLY, path);
        loadPrivateKey(path);
      }
    } finally {
      process.umask(previous);
    }
    for (const path of [makeKey("rsa").privatePath, testSealKeyFile()]) {
      assert.equal(modeOf(path), OWNER_ONLY, path);
      loadPrivateKey(path);
    }
  });
});
