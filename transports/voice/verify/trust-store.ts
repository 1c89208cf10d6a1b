/**
 * Trusted roots: a PEM bundle (by default the system CA bundle) parsed into certificates.
 */
import { readFileSync } from "node:fs";
import type { X509Certificate } from "node:crypto";
import { OptionsError } from "../../../lib/errors.ts";
import { parsePemCertificates } from "./chain.ts";

/** Debian's system CA bundle, which includes the roots the assistant's certificates chain to. */
export const DEFAULT_TRUSTED_ROOTS_FILE = "/etc/ssl/certs/ca-certificates.crt";

/** Parses a PEM bundle into root certificates. Throws when it holds none. */
export function parseTrustStore(pem: string, source = "trust store"): X509Certificate[] {
  const roots = parsePemCertificates(pem);
  if (roots.length === 0)
    throw new OptionsError(
      `${source} holds no PEM certificates`,
      "point trustedRootsFile at a PEM CA bundle",
    );
  return roots;
}

/** Reads and parses a PEM bundle file. */
export function loadTrustStore(file = DEFAULT_TRUSTED_ROOTS_FILE): X509Certificate[] {
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (err) {
    throw new OptionsError(
      `cannot read trusted roots file ${file}: ${err instanceof Error ? err.message : String(err)}`,
      "install ca-certificates or set voice.trustedRootsFile",
    );
  }
  return parseTrustStore(pem, file);
}
