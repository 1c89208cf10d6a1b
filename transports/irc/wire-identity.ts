/**
 * Feeds an {@link AccountTracker} from irc-framework events and returns the account lookup
 * used for every command: account-tag, else tracker (with account-notify), else WHOX.
 */
import type { Client } from "irc-framework";
import { sameNick } from "./addressing.ts";
import { accountFor, type AccountTracker } from "./identity.ts";

/** A WHOX query that gets no answer in this time counts as "unknown". */
export const WHOX_TIMEOUT_MS = 3_000;

function whoxQuery(client: Client): ((nick: string) => Promise<string | null>) | undefined {
  if (!client.network.supports("WHOX")) return undefined;
  return (nick) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), WHOX_TIMEOUT_MS);
      client.who(nick, (event) => {
        clearTimeout(timer);
        const user = event.users.find((u) => sameNick(u.nick, nick));
        resolve(user?.account ? user.account : null);
      });
    });
}

/** Subscribes `tracker` to `client` and returns `(nick, taggedAccount) => account`. */
export function wireIdentity(
  client: Client,
  tracker: AccountTracker,
): (nick: string, tagged: string | undefined) => Promise<string | undefined> {
  client.on("registered", () => tracker.clear());
  client.on("join", (e) => tracker.set(e.nick, e.account));
  client.on("account", (e) => tracker.set(e.nick, e.account));
  client.on("nick", (e) => tracker.rename(e.nick, e.new_nick));
  client.on("quit", (e) => tracker.forget(e.nick));
  client.on("part", (e) => tracker.forget(e.nick));
  client.on("kick", (e) => tracker.forget(e.kicked));
  return (nick, tagged) =>
    accountFor(
      nick,
      tagged,
      {
        accountTag: client.network.cap.isEnabled("account-tag"),
        accountNotify: client.network.cap.isEnabled("account-notify"),
        whox: whoxQuery(client),
      },
      tracker,
    );
}
