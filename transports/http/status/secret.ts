/**
 * The status page's link-signing secret: from an environment variable (shared by bot
 * replicas) or generated once into the state directory with mode 0600.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { OptionsError } from "../../../lib/errors.ts";
import { MIN_SECRET_BYTES } from "./link.ts";

const SECRET_BYTES = 32;
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** Reads the secret from `env[name]` (any text of at least 16 bytes). */
export function secretFromEnv(name: string, env: NodeJS.ProcessEnv): Buffer {
  const value = env[name];
  const secret = Buffer.from(value ?? "", "utf8");
  if (secret.length < MIN_SECRET_BYTES)
    throw new OptionsError(
      `http.status.linkSecretEnv names ${name}, which is ${value === undefined ? "not set" : "too short"}`,
      `export ${name}=$(openssl rand -hex 32)`,
    );
  return secret;
}

/** Reads the secret from `file`, creating it with random bytes when absent. */
export function ensureSecretFile(file: string): Buffer {
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: DIR_MODE });
    try {
      writeFileSync(file, randomBytes(SECRET_BYTES).toString("hex") + "\n", {
        mode: FILE_MODE,
        flag: "wx",
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
  const secret = Buffer.from(readFileSync(file, "utf8").trim(), "utf8");
  if (secret.length < MIN_SECRET_BYTES)
    throw new OptionsError(
      `${file} holds a link secret shorter than ${MIN_SECRET_BYTES} bytes`,
      "delete the file so a new secret is generated",
    );
  return secret;
}
