/**
 * The identity of a verified text (a registration, an enrollment record): its SHA-256, 44
 * characters kept in a cache instead of the text itself (about half a kilobyte to a kilobyte
 * per node), so an unchanged text is recognised without parsing or cryptography.
 */
import { createHash } from "node:crypto";

/** Digest that identifies a verified text. */
const TEXT_DIGEST = "sha256";

/** Base64 SHA-256 of `text`. */
export function textDigest(text: string): string {
  return createHash(TEXT_DIGEST).update(text).digest("base64");
}
