/**
 * IRC `nick!user@host` masks, matched the way IRC servers match ban masks: `*` and `?` are the
 * only wildcards, and both the mask and the user are first folded with the RFC 1459 case
 * mapping (`A-Z` and `[]\~` are the upper case of `a-z` and `{}|^`), so `Alice[m]!*@*` matches
 * `alice{M}!a@host`. Matching runs on the fleet's linear-time glob (no regex engine, no
 * backtracking), the one matcher Commodore uses for facts, hostnames and masks.
 */
import { compileGlob, type Glob } from "../../executors/fleet/index.ts";

/** RFC 1459 case mapping: lower case, with `[]\~` folded to `{}|^`. */
export function ircLower(text: string): string {
  return text
    .toLowerCase()
    .replace(/\[/g, "{")
    .replace(/]/g, "}")
    .replace(/\\/g, "|")
    .replace(/~/g, "^");
}

/** A compiled mask. */
export interface IrcMask {
  /** The mask as configured. */
  readonly source: string;
  /** True when `nick!user@host` matches, case-insensitively under RFC 1459. */
  matches(nickUserHost: string): boolean;
}

/**
 * Compiles a mask. After folding, `[`, `]` and `\` no longer exist in it, so they are ordinary
 * characters of nicks (as on IRC), never classes or escapes.
 */
export function compileIrcMask(mask: string): IrcMask {
  const glob: Glob = compileGlob(ircLower(mask));
  return { source: mask, matches: (text) => glob.matches(ircLower(text)) };
}
