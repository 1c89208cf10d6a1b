/**
 * Nick collision handling: picks fallback nicks while registering (`commodore_`,
 * `commodore__`, `commodore1`, …), takes the configured nick back as soon as its holder
 * leaves it (and on a timer), and identifies to NickServ whenever the bot holds it.
 */
import type { Client } from "irc-framework";
import type { Logger } from "../../lib/log.ts";
import { sameNick } from "./addressing.ts";

/** Fallback nicks tried with plain underscores before numbered ones. */
const UNDERSCORE_FALLBACKS = 2;

/** Options for {@link NickKeeper}. */
export interface NickKeeperOptions {
  readonly client: Client;
  /** The configured nick. */
  readonly nick: string;
  readonly nickserv?: { readonly account: string; readonly password: string } | undefined;
  /** True while registered with the server. */
  readonly registered: () => boolean;
  readonly logger: Logger;
}

/** Keeps (or regains) the configured nick on one connection. */
export class NickKeeper {
  private collisions = 0;

  constructor(private readonly o: NickKeeperOptions) {
    const c = o.client;
    c.on("nick in use", (e) => {
      if (o.registered()) return;
      const next = this.fallback();
      o.logger.warn("nick in use; trying a fallback", { nick: e.nick, fallback: next });
      c.changeNick(next);
    });
    c.on("nick invalid", (e) =>
      o.logger.error("server rejected nick", { nick: e.nick, reason: e.reason }),
    );
    c.on("nick", (e) => {
      // irc-framework may not have updated user.nick yet when this runs: check both names.
      const current = c.user.nick;
      const us = sameNick(e.nick, current) || sameNick(e.new_nick, current);
      if (us && sameNick(e.new_nick, o.nick)) {
        o.logger.info("reclaimed configured nick", { nick: e.new_nick });
        this.identify(e.new_nick);
      } else if (!us && sameNick(e.nick, o.nick)) {
        this.reclaim();
      }
    });
    c.on("quit", (e) => sameNick(e.nick, o.nick) && this.reclaim());
  }

  /** Registration finished under `nick`. */
  registered(nick: string): void {
    this.identify(nick);
  }

  /** The connection closed; the next registration starts from the configured nick. */
  reset(): void {
    this.collisions = 0;
  }

  /** Asks for the configured nick back if the bot does not hold it. */
  reclaim(): void {
    if (this.o.registered() && !sameNick(this.o.client.user.nick, this.o.nick))
      this.o.client.changeNick(this.o.nick);
  }

  private fallback(): string {
    this.collisions += 1;
    if (this.collisions <= UNDERSCORE_FALLBACKS) return this.o.nick + "_".repeat(this.collisions);
    return `${this.o.nick}${this.collisions - UNDERSCORE_FALLBACKS}`;
  }

  /** Identifies to NickServ when `nick` (the nick now held) is the configured one. */
  private identify(nick: string): void {
    const ns = this.o.nickserv;
    if (ns === undefined || !sameNick(nick, this.o.nick)) return;
    this.o.client.raw("PRIVMSG", "NickServ", `IDENTIFY ${ns.account} ${ns.password}`);
    this.o.logger.info("identified to NickServ", { account: ns.account });
  }
}
