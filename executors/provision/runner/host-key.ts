/**
 * SSH host keys: parsing OpenSSH public key lines, fingerprints, known_hosts lines and
 * `ssh-keyscan` (argv only) to see what a host presents.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";

const KEY_TYPES = new Set([
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
  "sk-ssh-ed25519@openssh.com",
  "sk-ecdsa-sha2-nistp256@openssh.com",
]);
const UINT32_BYTES = 4;
const DEFAULT_SSH_PORT = 22;
const MS_PER_S = 1_000;
/** Preference when a host offers several key types. */
const TYPE_PREFERENCE = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"];

/** A parsed public key: type and base64 blob (comment dropped). */
export interface HostKey {
  readonly type: string;
  readonly base64: string;
}

/** Parses `type base64 [comment]`; undefined unless the blob is well formed and self-consistent. */
export function parseHostKey(line: string): HostKey | undefined {
  const [type, base64] = line.trim().split(/\s+/);
  if (type === undefined || base64 === undefined || !KEY_TYPES.has(type)) return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const blob = Buffer.from(base64, "base64");
  if (blob.length < UINT32_BYTES) return undefined;
  const len = blob.readUInt32BE(0);
  if (blob.length < UINT32_BYTES + len) return undefined;
  const inner = blob.subarray(UINT32_BYTES, UINT32_BYTES + len).toString("latin1");
  return inner === type ? { type, base64 } : undefined;
}

/** `SHA256:…` fingerprint as ssh-keygen prints it. */
export function fingerprint(key: HostKey): string {
  const digest = createHash("sha256").update(Buffer.from(key.base64, "base64")).digest("base64");
  return `SHA256:${digest.replace(/=+$/, "")}`;
}

/** True when both keys are the same key. */
export function sameKey(a: HostKey, b: HostKey): boolean {
  return a.type === b.type && a.base64 === b.base64;
}

/** The known_hosts host field: `addr` on port 22, `[addr]:port` otherwise. */
export function knownHostsName(address: string, port: number): string {
  return port === DEFAULT_SSH_PORT ? address : `[${address}]:${port}`;
}

/** One known_hosts line pinning `key` for `address:port`. */
export function knownHostsLine(address: string, port: number, key: HostKey): string {
  return `${knownHostsName(address, port)} ${key.type} ${key.base64}`;
}

/** Picks the preferred key among several offered. */
export function preferredKey(keys: readonly HostKey[]): HostKey | undefined {
  for (const type of TYPE_PREFERENCE) {
    const found = keys.find((k) => k.type === type);
    if (found) return found;
  }
  return keys[0];
}

/** Options for {@link keyscan}. */
export interface KeyscanOptions {
  readonly command: string;
  readonly address: string;
  readonly port: number;
  /** Key types to ask for, e.g. `["ssh-ed25519"]`; all when empty. */
  readonly types: readonly string[];
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** Asks the host for its keys. Resolves `[]` when it does not answer. */
export async function keyscan(options: KeyscanOptions): Promise<HostKey[]> {
  const seconds = Math.max(1, Math.ceil(options.timeoutMs / MS_PER_S));
  const args = ["-T", String(seconds), "-p", String(options.port)];
  if (options.types.length > 0) args.push("-t", options.types.join(","));
  args.push("--", options.address);
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      options.command,
      args,
      {
        timeout: options.timeoutMs + MS_PER_S,
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (err, out) => {
        const code = (err as NodeJS.ErrnoException | null)?.code;
        if (code === "ENOENT") reject(new Error(`${options.command} not found`));
        else resolve(typeof out === "string" ? out : "");
      },
    );
  });
  const keys: HostKey[] = [];
  for (const line of stdout.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const key = parseHostKey(line.trim().split(/\s+/).slice(1).join(" "));
    if (key) keys.push(key);
  }
  return keys;
}

/** The key type keyscan's `-t` expects for a key (`ed25519`, `ecdsa`, `rsa`). */
export function keyscanType(key: HostKey): string {
  if (key.type.includes("ed25519")) return "ed25519";
  if (key.type.includes("ecdsa")) return "ecdsa";
  return "rsa";
}
