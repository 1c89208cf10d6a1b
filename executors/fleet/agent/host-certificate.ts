/**
 * The agent's OpenSSH host certificate, published in its registration so a controller that
 * trusts the signing CA (`@cert-authority` in its known_hosts) accepts the host without an
 * operator. The agent only checks the file's shape; the controller verifies it.
 */
import { readFileSync } from "node:fs";
import { KeyError } from "../protocol/keys.ts";

/** Suffix OpenSSH gives a certificate beside its key (`ssh_host_ed25519_key-cert.pub`). */
export const CERT_SUFFIX = "-cert.pub";
/** Certificate key types end with this. */
const CERT_TYPE = /^[a-z0-9-]+-cert-v01@openssh\.com$/;
/** Longest certificate file read. */
const MAX_CERT_BYTES = 16 * 1024;

/**
 * Reads `certPath` (an error when set and unusable), or `<hostKeyPath>-cert.pub` when that
 * exists; returns the `type base64` part, or undefined when the host has no certificate.
 */
export function readHostCertificate(
  certPath: string | undefined,
  hostKeyPath: string,
): string | undefined {
  const path = certPath ?? `${hostKeyPath}${CERT_SUFFIX}`;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    if (certPath === undefined && code === "ENOENT") return undefined;
    throw new KeyError(
      `cannot read host certificate ${path}: ${code}`,
      "check hostCertPath (--host-cert), or remove it to register without a certificate",
    );
  }
  const [type, data] = text.trim().split(/\s+/);
  if (
    text.length > MAX_CERT_BYTES ||
    type === undefined ||
    data === undefined ||
    !CERT_TYPE.test(type)
  )
    throw new KeyError(
      `${path} is not an OpenSSH certificate`,
      "sign the host key with `ssh-keygen -s CA -h -n <hostname> <host key>.pub`",
    );
  return `${type} ${data}`;
}
