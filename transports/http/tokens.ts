/**
 * Who an HTTP caller is: the principal whose bearer token this is. Tokens are never stored:
 * `principals[].http.tokenSha256` holds a token's SHA-256, or `http.tokenEnv` names the
 * environment variable holding the token itself (hashed when the resolver is built). Lookups
 * hash the presented token and compare it with every configured hash in constant time.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Principal } from "../../bot/contract.ts";
import {
  principalOf,
  type PrincipalConfig,
  type PrincipalDirectory,
} from "../../bot/identity/directory.ts";
import { OptionsError } from "../../lib/errors.ts";

/** A configured principal's HTTP fields (`principals[].http`). */
export interface HttpPrincipalConfig extends PrincipalConfig {
  readonly http?:
    | { readonly tokenSha256?: string | undefined; readonly tokenEnv?: string | undefined }
    | undefined;
}

/** Maps a bearer token to a principal (shown as `token:<id>`); undefined when unknown. */
export type TokenResolver = (token: string) => Principal | undefined;

/** SHA-256 of a token as lower-case hex, the form configuration stores. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * Builds the resolver over `directory`; `env` supplies tokens named by `http.tokenEnv`.
 * Throws OptionsError naming `principals[i].http.tokenEnv` when such a variable is not set.
 */
export function tokenPrincipals(
  directory: PrincipalDirectory<HttpPrincipalConfig>,
  env: NodeJS.ProcessEnv = process.env,
): TokenResolver {
  const hashes = directory.entries.flatMap((entry, i) => {
    const hex = entry.http?.tokenSha256?.toLowerCase() ?? envTokenHash(entry, i, env);
    return hex === undefined ? [] : [{ entry, hash: Buffer.from(hex, "hex") }];
  });
  return (token) => {
    const digest = createHash("sha256").update(token, "utf8").digest();
    let found: HttpPrincipalConfig | undefined;
    // Every hash is compared, so the time taken does not tell which entry matched.
    for (const { entry, hash } of hashes) {
      if (hash.length === digest.length && timingSafeEqual(hash, digest)) found ??= entry;
    }
    return found && principalOf(found, `token:${found.id}`);
  };
}

function envTokenHash(
  entry: HttpPrincipalConfig,
  index: number,
  env: NodeJS.ProcessEnv,
): string | undefined {
  const name = entry.http?.tokenEnv;
  if (name === undefined) return undefined;
  const token = env[name];
  if (token === undefined || token === "")
    throw new OptionsError(
      `principals[${index}].http.tokenEnv names ${name}, which is not set`,
      `export ${name}=<token> or use http.tokenSha256`,
    );
  return hashToken(token);
}
