/**
 * The IRC transport: reads commands addressed to the bot, resolves who sent them, hands them
 * to the bot and writes the bot's events back as IRC lines — prefixed with the caller's nick
 * in channels, sanitized, split at UTF-8 boundaries and sent through the flood-control queue.
 * People the bot does not know get at most one refusal a minute, in the queue's lowest lane.
 */
import type { JobReadCheck } from "../../bot/commands/job-access.ts";
import type { CommandHandler } from "../../bot/contract.ts";
import { errorMessage } from "../../lib/errors.ts";
import { silentLogger, type Logger } from "../../lib/log.ts";
import type { MetricsRegistry } from "../../lib/metrics.ts";
import type { Transport } from "../../bot/transport.ts";
import { addressedCommand, type Addressed } from "./addressing.ts";
import { clientOptions } from "./client-options.ts";
import { IrcConnection, type LineKind } from "./connection.ts";
import type { Scheduler } from "./flood.ts";
import { AccountTracker, type IrcUser } from "./identity.ts";
import { resolveSecret, type IrcOptions } from "./options.ts";
import { OutputCache } from "./output-cache.ts";
import type { IrcPrincipalResolver } from "./principals.ts";
import { sanitizeLine } from "./sanitize.ts";
import { MAX_PRIVATE_LINES, ReplySession } from "./session.ts";
import { byteLength, splitUtf8 } from "./split.ts";
import { StrangerGate } from "./strangers.ts";
import { wireIdentity } from "./wire-identity.ts";
import { moreCommand } from "./more.ts";

/** What the transport needs from the rest of Commodore. */
export interface IrcTransportDeps {
  readonly options: IrcOptions;
  readonly handler: CommandHandler;
  /** Maps an IRC user (account or nick!user@host) to a principal; undefined = unknown. */
  readonly resolvePrincipal: IrcPrincipalResolver;
  /**
   * Web link to a job's full output for the principal who asked (links may be signed for
   * them), when the HTTP transport serves one.
   */
  readonly jobUrl: (jobId: string, principalId: string) => string | undefined;
  /**
   * Why a principal may not read a job (as `job <id>` would be refused), for `more <job>`;
   * undefined when they may. The principal whose command produced the output may always.
   */
  readonly jobAccess: JobReadCheck;
  readonly logger?: Logger;
  readonly metrics?: MetricsRegistry;
  readonly env?: NodeJS.ProcessEnv;
  readonly schedule?: Scheduler;
}

/** One sender of one message. */
interface Caller extends IrcUser {
  readonly tagged: string | undefined;
}

/** The `irc` transport. */
export class IrcTransport implements Transport {
  readonly name = "irc";
  private readonly connection: IrcConnection;
  private readonly cache: OutputCache;
  private readonly tracker = new AccountTracker();
  private readonly strangers = new StrangerGate();
  private readonly strangersSkipped: ((reason: string) => void) | undefined;
  private readonly log: Logger;
  private readonly lookupAccount: (
    nick: string,
    tagged: string | undefined,
  ) => Promise<string | undefined>;

  constructor(private readonly deps: IrcTransportDeps) {
    const o = deps.options;
    this.log = (deps.logger ?? silentLogger).child({ transport: "irc" });
    const nickserv =
      o.nickserv === undefined ? undefined : resolveSecret(o.nickserv, "irc.nickserv", deps.env);
    const sent = deps.metrics?.counter("commodore_irc_lines_sent_total", "IRC lines sent");
    const dropped = deps.metrics?.counter(
      "commodore_irc_lines_dropped_total",
      "IRC lines dropped (queue full)",
    );
    const lost = deps.metrics?.counter("commodore_irc_disconnects_total", "IRC connections lost");
    const skipped = deps.metrics?.counter(
      "commodore_irc_stranger_refusals_skipped_total",
      "Refusals to unknown IRC users not sent, by reason (repeat, tracking_full, queue_full)",
    );
    this.strangersSkipped = skipped && ((reason) => skipped.inc({ reason }));
    this.connection = new IrcConnection({
      options: o,
      client: clientOptions(o, deps.env),
      nickservPassword: nickserv,
      logger: this.log,
      hooks: {
        lineSent: () => sent?.inc(),
        lineDropped: () => dropped?.inc(),
        strangerLineDropped: () => skipped?.inc({ reason: "queue_full" }),
        disconnected: () => lost?.inc(),
      },
      ...(deps.schedule ? { schedule: deps.schedule } : {}),
    });
    this.cache = new OutputCache(o.outputCache.jobs, o.outputCache.ttlMs);
    this.lookupAccount = wireIdentity(this.connection.client, this.tracker);
    this.connection.client.on("privmsg", (e) => {
      void this.onMessage(e.nick, e.target, e.message, {
        nick: e.nick,
        ident: e.ident,
        hostname: e.hostname,
        tagged: e.account,
      });
    });
  }

  /** The bot's current nick (differs from the configured one after a collision). */
  get nick(): string {
    return this.connection.nick;
  }

  /** True while registered with the server. */
  get connected(): boolean {
    return this.connection.registered;
  }

  /** How many times the bot registered with the server (1 + reconnects). */
  get registrations(): number {
    return this.connection.registrationCount;
  }

  /** True when the bot is in `channel`. */
  inChannel(channel: string): boolean {
    return this.connection.inChannel(channel);
  }

  /**
   * Sends one announcement (e.g. a provisioning notice) to `channel` as an IRC NOTICE, through
   * the same sanitising, splitting and flood-controlled queue as replies.
   */
  notice(channel: string, line: string): void {
    for (const piece of splitUtf8(sanitizeLine(line), this.deps.options.maxLineBytes))
      this.connection.send(channel, piece, "notice");
  }

  /** Connects; resolves once registered (or after a bounded wait while retrying). */
  async start(): Promise<void> {
    await this.connection.start();
  }

  /** Quits the server. Idempotent. */
  async stop(): Promise<void> {
    await this.connection.stop();
  }

  private channelTypes(): string {
    const types = this.connection.client.network.supports("CHANTYPES");
    return Array.isArray(types) ? types.join("") : typeof types === "string" ? types : "#&";
  }

  /** Sends lines to `target`, each prefixed (in channels) and split to the byte limit. */
  private write(
    target: string,
    prefix: string,
    lines: readonly string[],
    kind: LineKind = "reply",
  ): void {
    const budget = this.deps.options.maxLineBytes - byteLength(prefix);
    for (const line of lines)
      for (const piece of splitUtf8(sanitizeLine(line), budget))
        this.connection.send(target, prefix + piece, kind);
  }

  private async onMessage(
    nick: string,
    target: string,
    text: string,
    caller: Caller,
  ): Promise<void> {
    const o = this.deps.options;
    const addressed = addressedCommand(
      { kind: "privmsg", nick, target, text },
      {
        nicks: [this.connection.nick, o.nick],
        prefix: o.prefix,
        channelTypes: this.channelTypes(),
      },
    );
    if (!addressed) return;
    try {
      await this.run(addressed, caller);
    } catch (err) {
      this.log.error("command failed inside the transport", { error: errorMessage(err) });
      this.reply(addressed, caller.nick, ["internal error (E_INTERNAL); see the bot's log"]);
    }
  }

  private reply(
    to: Addressed,
    nick: string,
    lines: readonly string[],
    kind: LineKind = "reply",
  ): void {
    this.write(to.replyTo, to.private ? "" : `${nick}: `, lines, kind);
  }

  /** Tells an unknown user so, at most once a minute per nick and user@host. */
  private refuseStranger(to: Addressed, user: IrcUser, mask: string): void {
    this.deps.metrics
      ?.counter("commodore_irc_unknown_users_total", "commands from unknown IRC users")
      .inc();
    const verdict = this.strangers.check(user.nick, user.ident, user.hostname);
    if (verdict !== "refuse") {
      this.strangersSkipped?.(verdict === "repeat" ? "repeat" : "tracking_full");
      return;
    }
    this.log.warn("command from unknown IRC user ignored", {
      mask,
      account: user.account ?? null,
    });
    const who = user.account ? `account ${user.account}` : mask;
    this.reply(
      to,
      user.nick,
      [`I don't know ${who}; ask an operator to add your IRC account or mask`],
      "stranger",
    );
  }

  private async run(to: Addressed, caller: Caller): Promise<void> {
    const o = this.deps.options;
    const account = await this.lookupAccount(caller.nick, caller.tagged);
    const user: IrcUser = {
      nick: caller.nick,
      ident: caller.ident,
      hostname: caller.hostname,
      ...(account ? { account } : {}),
    };
    const mask = `${user.nick}!${user.ident}@${user.hostname}`;
    const principal = this.deps.resolvePrincipal(user);
    if (!principal) return this.refuseStranger(to, user, mask);
    const jobUrl = (jobId: string) => this.deps.jobUrl(jobId, principal.id);
    const word = to.command.split(/\s+/, 1)[0]?.toLowerCase();
    if (word === "more")
      return moreCommand(
        to.command,
        this.cache,
        jobUrl,
        {
          reply: (lines) => this.reply(to, caller.nick, lines),
          privately: (lines) => this.write(caller.nick, "", lines),
          isPrivate: to.private,
        },
        { principalId: principal.id, denial: (jobId) => this.deps.jobAccess(principal, jobId) },
      );
    const privately = word === "help" || to.private;
    if (word === "help" && !to.private)
      this.reply(to, caller.nick, ["help sent by private message"]);
    const session = new ReplySession({
      output: {
        reply: (lines) =>
          privately ? this.write(caller.nick, "", lines) : this.reply(to, caller.nick, lines),
      },
      maxLines: privately ? MAX_PRIVATE_LINES : o.maxChannelLines,
      progressIntervalMs: o.progressIntervalMs,
      cache: this.cache,
      owner: principal.id,
      jobUrl,
      moreHint: (id) =>
        to.private
          ? `more ${id}`
          : o.prefix !== ""
            ? `${o.prefix}more ${id}`
            : `${this.connection.nick}: more ${id}`,
      ...(this.deps.schedule ? { schedule: this.deps.schedule } : {}),
    });
    this.log.info("IRC command", {
      principal: principal.id,
      mask,
      origin: to.replyTo,
      command: to.command,
    });
    try {
      await this.deps.handler.handle(
        {
          principal: { ...principal, display: principal.display || mask },
          transport: "irc",
          text: to.command,
          origin: to.private ? "irc:private" : to.replyTo,
        },
        session.sink,
      );
    } finally {
      session.close();
    }
  }
}
