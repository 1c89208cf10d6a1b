/**
 * One identity model for every transport: an IRC account or nick!user@host mask, an HTTP
 * bearer token, or a voice application and user each resolve to a configured principal.
 *
 * Tokens are never stored: configuration holds their SHA-256 or names an environment
 * variable, and lookups compare hashes in constant time.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { OptionsError } from "../../lib/errors.ts";
import type { Principal } from "../contract.ts";
import { compileIrcMask, type IrcMask } from "./irc-mask.ts";

/** A principal as configuration describes it. */
export interface PrincipalConfig {
  readonly id: string;
  readonly roles: readonly string[];
  readonly irc?:
    { readonly accounts?: readonly string[]; readonly masks?: readonly string[] } | undefined;
  readonly http?:
    | { readonly tokenSha256?: string | undefined; readonly tokenEnv?: string | undefined }
    | undefined;
  readonly voice?: { readonly applicationId: string; readonly userId: string } | undefined;
}

/** How an IRC user appears: nick, user, host and the services account when known. */
export interface IrcUser {
  readonly nick: string;
  readonly user: string;
  readonly host: string;
  readonly account?: string;
}

/** Id of the principal for callers nobody configured (e.g. local HTTP in embedded mode). */
export const ANONYMOUS_ID = "anonymous";

interface Entry {
  readonly config: PrincipalConfig;
  readonly masks: readonly IrcMask[];
  readonly tokenHash?: Buffer;
}

/** SHA-256 of a token as lower-case hex, the form configuration stores. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Resolves transport identities to principals. */
export class Identity {
  private readonly entries: readonly Entry[];

  /** `env` supplies tokens named by `http.tokenEnv`; a missing variable is an error. */
  constructor(principals: readonly PrincipalConfig[], env: NodeJS.ProcessEnv = process.env) {
    this.entries = principals.map((config, i) => {
      const masks = (config.irc?.masks ?? []).map(compileIrcMask);
      let hex = config.http?.tokenSha256?.toLowerCase();
      const envName = config.http?.tokenEnv;
      if (hex === undefined && envName !== undefined) {
        const token = env[envName];
        if (token === undefined || token === "")
          throw new OptionsError(
            `principals[${i}].http.tokenEnv names ${envName}, which is not set`,
            `export ${envName}=<token> or use http.tokenSha256`,
          );
        hex = hashToken(token);
      }
      return hex === undefined
        ? { config, masks }
        : { config, masks, tokenHash: Buffer.from(hex, "hex") };
    });
  }

  /**
   * The principal for an IRC user: services account first, then `nick!user@host` masks (`*` and
   * `?` only, RFC 1459 case folding; see irc-mask.ts).
   */
  fromIrc(user: IrcUser): Principal | undefined {
    const mask = `${user.nick}!${user.user}@${user.host}`;
    const account = user.account?.toLowerCase();
    const byAccount =
      account === undefined
        ? undefined
        : this.entries.find((e) =>
            e.config.irc?.accounts?.some((a) => a.toLowerCase() === account),
          );
    const entry = byAccount ?? this.entries.find((e) => e.masks.some((m) => m.matches(mask)));
    return entry && principal(entry.config, mask);
  }

  /** The principal whose token this is, compared by SHA-256 in constant time. */
  fromHttpToken(token: string): Principal | undefined {
    const digest = createHash("sha256").update(token, "utf8").digest();
    let found: Entry | undefined;
    for (const e of this.entries) {
      if (
        e.tokenHash &&
        e.tokenHash.length === digest.length &&
        timingSafeEqual(e.tokenHash, digest)
      )
        found ??= e;
    }
    return found && principal(found.config, `token:${found.config.id}`);
  }

  /** The principal bound to a voice application and user. */
  fromVoice(applicationId: string, userId: string): Principal | undefined {
    const e = this.entries.find(
      (x) => x.config.voice?.applicationId === applicationId && x.config.voice.userId === userId,
    );
    return e && principal(e.config, `voice:${e.config.id}`);
  }

  /** The principal with this id (for the CLI and tests). */
  byId(id: string): Principal | undefined {
    const e = this.entries.find((x) => x.config.id === id);
    return e && principal(e.config, id);
  }
}

/** An unconfigured caller: no roles of its own, only the configured default roles apply. */
export function anonymousPrincipal(display: string): Principal {
  return { id: ANONYMOUS_ID, roles: [], display };
}

function principal(config: PrincipalConfig, display: string): Principal {
  return { id: config.id, roles: [...config.roles], display };
}
