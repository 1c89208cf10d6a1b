/**
 * Tracks which IRC services account each nick is logged into, from IRCv3 sources only:
 * `extended-join`, `account-notify` and WHOX replies. The cache is only trusted while the
 * server sends `account-notify` (otherwise a logout would go unseen); callers fall back to a
 * fresh WHOX query, and finally to nick!user@host masks.
 */
import { ircLower } from "./mask.ts";

/** Known account (string), known not logged in (null), or unknown (undefined). */
export type AccountState = string | null | undefined;

/** nick → account map kept current from server events. */
export class AccountTracker {
  private readonly accounts = new Map<string, string | null>();

  /** Records what the server said; `false`, `""`, `"*"` and `"0"` mean "not logged in". */
  set(nick: string, account: string | false | undefined): void {
    if (account === undefined) return;
    const loggedOut = account === false || account === "" || account === "*" || account === "0";
    this.accounts.set(ircLower(nick), loggedOut ? null : account);
  }

  /** The last known state for `nick`. */
  get(nick: string): AccountState {
    return this.accounts.get(ircLower(nick));
  }

  /** Carries state over a nick change. */
  rename(from: string, to: string): void {
    const state = this.accounts.get(ircLower(from));
    this.accounts.delete(ircLower(from));
    if (state !== undefined) this.accounts.set(ircLower(to), state);
  }

  /** Forgets a nick (quit, part, kick: we may stop seeing its account changes). */
  forget(nick: string): void {
    this.accounts.delete(ircLower(nick));
  }

  /** Forgets everything (new connection). */
  clear(): void {
    this.accounts.clear();
  }
}

/** Who sent a message, as the transport hands it to `resolvePrincipal`. */
export interface IrcUser {
  readonly nick: string;
  readonly ident: string;
  readonly hostname: string;
  /** Services account, when the server told us (IRCv3); absent means unknown or none. */
  readonly account?: string;
}

/** What {@link accountFor} needs from the connection. */
export interface AccountSources {
  /** True when the server sends IRCv3 `account-tag` on messages. */
  readonly accountTag: boolean;
  /** True when the server sends `account-notify`, so cached accounts stay current. */
  readonly accountNotify: boolean;
  /** Runs a WHOX query for `nick`; undefined when the server has no WHOX. */
  readonly whox: ((nick: string) => Promise<string | null>) | undefined;
}

/**
 * The services account of a message's sender: the message's account tag when the server
 * sends them, else the tracker (only while account-notify keeps it current), else a WHOX
 * query. Undefined when the server cannot tell us, or the user is not logged in.
 */
export async function accountFor(
  nick: string,
  tagged: string | undefined,
  sources: AccountSources,
  tracker: AccountTracker,
): Promise<string | undefined> {
  if (sources.accountTag) return tagged === undefined || tagged === "" ? undefined : tagged;
  const known = sources.accountNotify ? tracker.get(nick) : undefined;
  if (known !== undefined) return known ?? undefined;
  if (!sources.whox) return undefined;
  const account = await sources.whox(nick);
  tracker.set(nick, account ?? false);
  return account ?? undefined;
}
