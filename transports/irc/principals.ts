/**
 * Who an IRC user is: the principal whose `principals[].irc.accounts` lists the user's services
 * account, else the first whose `irc.masks` match `nick!user@host` (`*` and `?` only, RFC 1459
 * case folding; see mask.ts). Accounts are compared case-insensitively.
 */
import type { Principal } from "../../bot/contract.ts";
import type { PrincipalConfig, PrincipalDirectory } from "../../bot/identity/directory.ts";
import type { IrcUser } from "./identity.ts";
import { compileIrcMask } from "./mask.ts";

/** A configured principal's IRC fields (`principals[].irc`). */
export interface IrcPrincipalConfig extends PrincipalConfig {
  readonly irc?:
    { readonly accounts?: readonly string[]; readonly masks?: readonly string[] } | undefined;
}

/** Maps an IRC user to a principal; undefined when nobody configured matches. */
export type IrcPrincipalResolver = (user: IrcUser) => Principal | undefined;

/** Builds the resolver over `directory`, compiling every configured mask once. */
export function ircPrincipals(
  directory: PrincipalDirectory<IrcPrincipalConfig>,
): IrcPrincipalResolver {
  const masks = new Map(
    directory.entries.map((e) => [e, (e.irc?.masks ?? []).map(compileIrcMask)] as const),
  );
  return (user) => {
    const mask = `${user.nick}!${user.ident}@${user.hostname}`;
    const account = user.account?.toLowerCase();
    const shown = () => mask;
    const byAccount =
      account === undefined
        ? undefined
        : directory.find(
            (e) => e.irc?.accounts?.some((a) => a.toLowerCase() === account) ?? false,
            shown,
          );
    return (
      byAccount ?? directory.find((e) => masks.get(e)?.some((m) => m.matches(mask)) ?? false, shown)
    );
  };
}
