/**
 * Key material for a fleet: OpenSSH ed25519 keys written with node:crypto + sshpk (no
 * ssh-keygen needed, output readable by it), allowed_signers lines, and `ensureKeys` which
 * prepares a state directory for the embedded (single-machine) mode.
 */
import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { join } from "node:path";
import sshpk from "sshpk";
import { OptionsError } from "../../lib/errors.ts";
import { REQUEST_NAMESPACE } from "./protocol/channels.ts";
import { parsePublicKeyLine } from "./protocol/keys.ts";

const PRIVATE_MODE = 0o600;
const DIR_MODE = 0o700;

/** A key pair on disk. */
export interface KeyFiles {
  readonly privatePath: string;
  readonly publicPath: string;
  /** `ssh-ed25519 AAAA… comment` */
  readonly publicLine: string;
  readonly fingerprint: string;
}

function describe(privatePath: string): KeyFiles {
  const publicPath = `${privatePath}.pub`;
  const publicLine = readFileSync(publicPath, "utf8").trim();
  return {
    privatePath,
    publicPath,
    publicLine,
    fingerprint: parsePublicKeyLine(publicLine).fingerprint,
  };
}

/** Writes a new ed25519 key pair at `path` and `path.pub`; refuses to overwrite. */
export function generateKey(path: string, comment: string): KeyFiles {
  if (existsSync(path))
    throw new OptionsError(
      `${path} already exists`,
      "choose another path or remove the old key first",
    );
  const { privateKey } = generateKeyPairSync("ed25519");
  const parsed = sshpk.parsePrivateKey(
    privateKey.export({ format: "pem", type: "pkcs8" }),
    "pkcs8",
  );
  parsed.comment = comment;
  // "wx": the mode applies only to a file this call creates, so never write into one that
  // appeared since the check above (it could be readable by others).
  writeFileSync(path, parsed.toString("openssh"), { mode: PRIVATE_MODE, flag: "wx" });
  writeFileSync(`${path}.pub`, `${parsed.toPublic().toString("ssh")}\n`);
  return describe(path);
}

/** An allowed_signers line letting `principal` sign requests with the key `publicLine`. */
export function signerLine(
  principal: string,
  publicLine: string,
  namespace: string = REQUEST_NAMESPACE,
): string {
  if (!/^[^\s",]+$/.test(principal))
    throw new OptionsError(
      `principal ${JSON.stringify(principal)} may not contain spaces, commas or quotes`,
    );
  return `${principal} namespaces="${namespace}" ${publicLine}`;
}

/** The files `ensureKeys` manages. */
export interface FleetKeys {
  readonly controllerKey: KeyFiles;
  readonly hostKey: KeyFiles;
  readonly allowedSignersPath: string;
  readonly principal: string;
}

/**
 * Makes sure `dir` holds a controller key, an agent host key and an allowed_signers file
 * trusting the controller key for `principal`; existing files are kept.
 */
export function ensureKeys(dir: string, principal = "commodore"): FleetKeys {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  const controllerPath = join(dir, "controller_ed25519");
  const hostPath = join(dir, "agent_host_ed25519");
  const controllerKey = existsSync(controllerPath)
    ? describe(controllerPath)
    : generateKey(controllerPath, `commodore-controller@${osHostname()}`);
  const hostKey = existsSync(hostPath)
    ? describe(hostPath)
    : generateKey(hostPath, `commodore-agent@${osHostname()}`);
  const allowedSignersPath = join(dir, "allowed_signers");
  if (!existsSync(allowedSignersPath))
    writeFileSync(allowedSignersPath, `${signerLine(principal, controllerKey.publicLine)}\n`);
  return { controllerKey, hostKey, allowedSignersPath, principal };
}
