/** Real OpenSSH key pairs made by `ssh-keygen` for tests. */
import { execFileSync } from "node:child_process";
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
