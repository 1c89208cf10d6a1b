/**
 * One test controller key per test process and sealers keyed from it: every bot, job store,
 * queue and knock consumer a test builds shares it, as bot replicas holding one controller
 * key do, so a restarted or second bot reads what the first one sealed.
 */
import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadPrivateKey } from "../../executors/fleet/protocol/keys.ts";
import { StateSealer, type StateSealerOptions } from "../../lib/seal.ts";
import { tempDir } from "./tmp.ts";

/** Owner-only permissions of the key file. */
const KEY_FILE_MODE = 0o600;
let keyFile: string | undefined;

/** The test controller key (PKCS#8 PEM, as `commodore keygen` writes it), made on first use. */
export function testSealKeyFile(): string {
  if (keyFile === undefined) {
    const path = join(tempDir("commodore-seal-"), "controller_ed25519");
    const { privateKey } = generateKeyPairSync("ed25519");
    writeFileSync(path, privateKey.export({ format: "pem", type: "pkcs8" }), {
      mode: KEY_FILE_MODE,
    });
    keyFile = path;
  }
  return keyFile;
}

/** A sealer keyed from the test controller key, counting into `options.metrics` if given. */
export function testSealer(options: StateSealerOptions = {}): StateSealer {
  return StateSealer.fromPrivateKey(loadPrivateKey(testSealKeyFile()).key, options);
}
