/**
 * OpenSSH keys: parsed with sshpk, turned into node:crypto KeyObjects (via JWK, because
 * sshpk's PKCS#8 output for ed25519 is not readable by OpenSSL), identified by their RFC 4253
 * public blob and their `SHA256:…` fingerprint exactly as `ssh-keygen -l` prints it.
 */
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";
import type { Stats } from "node:fs";
import sshpk from "sshpk";
import { readBoundedFile } from "../../../lib/bounded-file.ts";
import { CommodoreError } from "../../../lib/errors.ts";

/** A key file or key line that cannot be used. */
export class KeyError extends CommodoreError {
  constructor(message: string, hint: string) {
    super("E_FLEET_KEY", message, { hint });
  }
}

/** The SSH key algorithms Commodore signs and verifies with. */
export type SshKeyType =
  "ssh-ed25519" | "ecdsa-sha2-nistp256" | "ecdsa-sha2-nistp384" | "ecdsa-sha2-nistp521" | "ssh-rsa";

/** A public key ready for verification. */
export interface PublicKeyInfo {
  readonly type: SshKeyType;
  /** RFC 4253 public key blob. */
  readonly blob: Buffer;
  /** `SHA256:…` fingerprint. */
  readonly fingerprint: string;
  /** `type base64` (no comment). */
  readonly line: string;
  readonly key: KeyObject;
}

/** A private key ready for signing, with its public half. */
export interface PrivateKeyInfo {
  readonly public: PublicKeyInfo;
  readonly key: KeyObject;
}

const CURVES: Record<string, { jwk: string; size: number; type: SshKeyType }> = {
  nistp256: { jwk: "P-256", size: 32, type: "ecdsa-sha2-nistp256" },
  nistp384: { jwk: "P-384", size: 48, type: "ecdsa-sha2-nistp384" },
  nistp521: { jwk: "P-521", size: 66, type: "ecdsa-sha2-nistp521" },
};

function b64u(data: Buffer): string {
  return data.toString("base64url");
}

function unsigned(data: Buffer): Buffer {
  let i = 0;
  while (i < data.length - 1 && data[i] === 0) i++;
  return data.subarray(i);
}

function fixed(data: Buffer, size: number): Buffer {
  const u = unsigned(data);
  if (u.length >= size) return u.subarray(u.length - size);
  return Buffer.concat([Buffer.alloc(size - u.length), u]);
}

function part(key: sshpk.Key | sshpk.PrivateKey, name: string): Buffer {
  const found = (key as unknown as { part: Record<string, { data: Buffer } | undefined> }).part[
    name
  ];
  if (!found)
    throw new KeyError(
      `key is missing its ${name} component`,
      "regenerate the key with ssh-keygen",
    );
  return found.data;
}

function toBigInt(data: Buffer): bigint {
  return data.length === 0 ? 0n : BigInt(`0x${data.toString("hex")}`);
}

function fromBigInt(n: bigint): Buffer {
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, "hex");
}

function jwkFor(
  key: sshpk.Key | sshpk.PrivateKey,
  withPrivate: boolean,
): { jwk: JsonWebKey; type: SshKeyType } {
  if (key.type === "ed25519") {
    const jwk: JsonWebKey = { kty: "OKP", crv: "Ed25519", x: b64u(part(key, "A")) };
    if (withPrivate) jwk.d = b64u(fixed(part(key, "k"), 32));
    return { jwk, type: "ssh-ed25519" };
  }
  if (key.type === "ecdsa") {
    const curve = CURVES[key.curve ?? ""];
    if (!curve)
      throw new KeyError(
        `unsupported ECDSA curve ${String(key.curve)}`,
        "use nistp256, nistp384 or nistp521",
      );
    const q = part(key, "Q");
    const x = q.subarray(1, 1 + curve.size);
    const y = q.subarray(1 + curve.size);
    const jwk: JsonWebKey = { kty: "EC", crv: curve.jwk, x: b64u(x), y: b64u(y) };
    if (withPrivate) jwk.d = b64u(fixed(part(key, "d"), curve.size));
    return { jwk, type: curve.type };
  }
  if (key.type === "rsa") {
    const jwk: JsonWebKey = {
      kty: "RSA",
      n: b64u(unsigned(part(key, "n"))),
      e: b64u(unsigned(part(key, "e"))),
    };
    if (withPrivate) {
      const d = toBigInt(part(key, "d"));
      const p = toBigInt(part(key, "p"));
      const q = toBigInt(part(key, "q"));
      jwk.d = b64u(unsigned(part(key, "d")));
      jwk.p = b64u(unsigned(part(key, "p")));
      jwk.q = b64u(unsigned(part(key, "q")));
      jwk.dp = b64u(fromBigInt(d % (p - 1n)));
      jwk.dq = b64u(fromBigInt(d % (q - 1n)));
      jwk.qi = b64u(unsigned(part(key, "iqmp")));
    }
    return { jwk, type: "ssh-rsa" };
  }
  throw new KeyError(`unsupported key type ${key.type}`, "use an ed25519, ecdsa or rsa key");
}

function describePublic(key: sshpk.Key): PublicKeyInfo {
  const { jwk, type } = jwkFor(key, false);
  const blob = key.toBuffer("rfc4253");
  return {
    type,
    blob,
    fingerprint: key.fingerprint("sha256").toString(),
    line: `${type} ${blob.toString("base64")}`,
    key: createPublicKey({ key: jwk, format: "jwk" }),
  };
}

const publicCache = new Map<string, PublicKeyInfo>();
/** Upper bound on cached public keys (one per distinct signer seen). */
export const PUBLIC_KEY_CACHE_MAX = 100_000;

/** Parses an RFC 4253 public key blob, cached by blob so the hot path never re-parses. */
export function publicKeyFromBlob(blob: Buffer): PublicKeyInfo {
  const id = blob.toString("base64");
  const cached = publicCache.get(id);
  if (cached) return cached;
  let parsed: sshpk.Key;
  try {
    parsed = sshpk.parseKey(blob, "rfc4253");
  } catch (err) {
    throw new KeyError(
      `not a valid SSH public key blob: ${(err as Error).message}`,
      "check the key encoding",
    );
  }
  const info = describePublic(parsed);
  if (publicCache.size >= PUBLIC_KEY_CACHE_MAX) publicCache.clear();
  publicCache.set(id, info);
  return info;
}

/** Parses a public key line `type base64 [comment]`. */
export function parsePublicKeyLine(line: string): PublicKeyInfo {
  const [type, data] = line.trim().split(/\s+/);
  if (type === undefined || data === undefined) {
    throw new KeyError(
      `expected "keytype base64", got ${JSON.stringify(line.slice(0, 80))}`,
      "copy the line from the .pub file",
    );
  }
  const info = publicKeyFromBlob(Buffer.from(data, "base64"));
  if (info.type !== type)
    throw new KeyError(
      `key line says ${type} but the key is ${info.type}`,
      "copy the line from the .pub file unchanged",
    );
  return info;
}

/** Parses an unencrypted OpenSSH (or PEM) private key. */
export function parsePrivateKey(text: string | Buffer, source = "private key"): PrivateKeyInfo {
  let parsed: sshpk.PrivateKey;
  try {
    parsed = sshpk.parsePrivateKey(text, "auto");
  } catch (err) {
    const encrypted = /encrypted|passphrase/i.test((err as Error).message);
    throw new KeyError(
      `cannot read ${source}: ${encrypted ? "it is passphrase-protected" : (err as Error).message}`,
      encrypted
        ? "use an unencrypted key (ssh-keygen -N '')"
        : "pass an OpenSSH private key made by ssh-keygen",
    );
  }
  const { jwk } = jwkFor(parsed, true);
  return {
    public: describePublic(parsed.toPublic()),
    key: createPrivateKey({ key: jwk, format: "jwk" }),
  };
}

/**
 * Largest private key file read: an OpenSSH RSA key of 16 384 bits is about 13 KiB, so 64 KiB
 * refuses only what is not a key.
 */
export const MAX_PRIVATE_KEY_BYTES = 64 * 1024;
/** Permission bits of group and others (`chmod go=`). */
const GROUP_OTHER_BITS = 0o077;
/** Permission bits of others. */
const OTHER_BITS = 0o007;
const PERMISSION_BITS = 0o777;

/** A private key file anyone but its owner may access, refused as OpenSSH refuses it. */
export class UnprotectedKeyError extends KeyError {
  /** The file's permissions as `chmod` writes them (`0644`). */
  readonly modeText: string;

  constructor(
    readonly path: string,
    mode: number,
  ) {
    super(
      `UNPROTECTED PRIVATE KEY FILE: permissions ${modeText(mode)} for ${path} are too open; it is required that private key files are not accessible by others, so this key was not used`,
      `run \`chmod 600 ${path}\` (the file must belong to the user Commodore runs as)`,
    );
    this.modeText = modeText(mode);
  }
}

/** `0644` */
function modeText(mode: number): string {
  return `0${(mode & PERMISSION_BITS).toString(8).padStart(3, "0")}`;
}

/**
 * OpenSSH's rule (sshkey_perm_ok, "UNPROTECTED PRIVATE KEY FILE"): a key file the running user
 * owns must give group and others no access at all. A key owned by another user (root sharing
 * it through a group) must at least give others none.
 */
export function checkKeyPermissions(path: string, stats: Pick<Stats, "mode" | "uid">): void {
  const owned = process.getuid === undefined || stats.uid === process.getuid();
  if ((stats.mode & (owned ? GROUP_OTHER_BITS : OTHER_BITS)) !== 0)
    throw new UnprotectedKeyError(path, stats.mode);
}

/**
 * Reads a private key file: a regular file of at most {@link MAX_PRIVATE_KEY_BYTES}, with its
 * status for {@link checkKeyPermissions}.
 */
export function readPrivateKeyFile(path: string): { data: Buffer; stats: Stats } {
  return readBoundedFile(path, MAX_PRIVATE_KEY_BYTES, (message, line) =>
    line === undefined
      ? new KeyError(
          `cannot read key file ${path}: ${message}`,
          "check the path and permissions (or run `commodore keygen`)",
        )
      : new KeyError(
          `${path}:${line}: ${message}; no private key is that large`,
          "point the option at an OpenSSH private key made by ssh-keygen",
        ),
  );
}

/**
 * Reads and parses a private key file; a key others may access is refused
 * ({@link UnprotectedKeyError}), as OpenSSH refuses it.
 */
export function loadPrivateKey(path: string): PrivateKeyInfo {
  const { data, stats } = readPrivateKeyFile(path);
  const key = parsePrivateKey(data, path);
  checkKeyPermissions(path, stats);
  return key;
}
