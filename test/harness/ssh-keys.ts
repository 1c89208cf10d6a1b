/** Real OpenSSH key pairs made by `ssh-keygen` for tests. */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./tmp.ts";

/** A generated key pair on disk. */
export interface TestKey {
  readonly privatePath: string;
  readonly publicPath: string;
  /** The `.pub` line, e.g. `ssh-ed25519 AAAA… comment`. */
  readonly publicLine: string;
  /** `SHA256:…` as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string;
}

/** Generates a key with ssh-keygen (`ed25519`, `ecdsa` or `rsa`). */
export function makeKey(type: "ed25519" | "ecdsa" | "rsa" = "ed25519", comment = "test"): TestKey {
  const dir = tempDir("commodore-key-");
  const privatePath = join(dir, `id_${type}`);
  const bits = type === "rsa" ? ["-b", "2048"] : type === "ecdsa" ? ["-b", "256"] : [];
  execFileSync("ssh-keygen", [
    "-q",
    "-t",
    type,
    ...bits,
    "-N",
    "",
    "-C",
    comment,
    "-f",
    privatePath,
  ]);
  const publicPath = `${privatePath}.pub`;
  const listed = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", publicPath], {
    encoding: "utf8",
  });
  return {
    privatePath,
    publicPath,
    publicLine: readFileSync(publicPath, "utf8").trim(),
    fingerprint: listed.split(" ")[1] ?? "",
  };
}

/** Bytes of an ed25519 public key. */
const ED25519_KEY_BYTES = 32;

/** An SSH wire string: its length (4 bytes, big-endian), then its bytes. */
function sshString(data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, data]);
}

/**
 * A well-formed `ssh-ed25519 AAAA…` public key line over random bytes, with no private half:
 * thousands of distinct keys for trust files at volume, where ssh-keygen would take minutes.
 */
export function randomEd25519Line(): string {
  const blob = Buffer.concat([
    sshString(Buffer.from("ssh-ed25519")),
    sshString(randomBytes(ED25519_KEY_BYTES)),
  ]);
  return `ssh-ed25519 ${blob.toString("base64")}`;
}
