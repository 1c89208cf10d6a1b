/**
 * One IRC connection with an explicit life cycle, on irc-framework.
 *
 * Reconnects with capped, jittered backoff (irc-framework's own reconnect is off), rejoins
 * configured channels, takes a fallback nick on collision and reclaims the configured one
 * later, identifies to NickServ when configured, and sends every outgoing line through a
 * token-bucket queue that pauses while the connection is down.
 */
import { Client, type ClientOptions } from "irc-framework";
import { backoffDelay } from "../../lib/backoff.ts";
import type { Logger } from "../../lib/log.ts";
import { sameNick } from "./addressing.ts";
import { ChannelKeeper } from "./channels.ts";
import { NickKeeper } from "./nick-keeper.ts";
import {
  realScheduler,
  SendQueue,
  TokenBucket,
  type OutgoingLine,
  type Scheduler,
} from "./flood.ts";
import type { IrcOptions } from "./options.ts";
import { sanitizeLine } from "./sanitize.ts";

/** Longest wait in `start()` before it resolves and lets the reconnect loop carry on. */
export const START_WAIT_MS = 15_000;

/** Hooks the transport passes in; all optional. */
export interface ConnectionHooks {
  readonly registered?: () => void;
  readonly disconnected?: () => void;
  readonly lineSent?: (line: OutgoingLine) => void;
  readonly lineDropped?: (line: OutgoingLine) => void;
  /** A refusal to an unknown user was dropped because their lane of the queue was full. */
  readonly strangerLineDropped?: (line: OutgoingLine) => void;
}

/**
 * How a line goes out: a `reply` (PRIVMSG), a `notice` (NOTICE, for announcements) or a
 * `stranger` refusal (PRIVMSG, lowest priority, see {@link SendQueue}).
 */
export type LineKind = "reply" | "notice" | "stranger";

/** Options for {@link IrcConnection}. */
export interface IrcConnectionOptions {
  readonly options: IrcOptions;
  readonly client: ClientOptions;
  /** NickServ password, already resolved; undefined when NickServ is not used. */
  readonly nickservPassword?: string | undefined;
  readonly logger: Logger;
  readonly hooks?: ConnectionHooks;
  readonly schedule?: Scheduler;
}

/** A self-healing IRC connection. */
export class IrcConnection {
  /** The underlying irc-framework client, for message events. */
  readonly client: Client;
  private readonly channels: ChannelKeeper;
  private readonly queue: SendQueue;
  private readonly schedule: Scheduler;
  private readonly log: Logger;
  private attempt = 0;
  private readonly nicks: NickKeeper;
  private registrations = 0;
  private stopping = false;
  private isRegistered = false;
  private timers: (() => void)[] = [];
  private readonly firstRegistration: Promise<void>;
  private resolveFirst: () => void = () => undefined;

  constructor(private readonly o: IrcConnectionOptions) {
    const opts = o.options;
    this.schedule = o.schedule ?? realScheduler;
    this.log = o.logger.child({ irc: `${opts.host}:${opts.port}` });
    this.client = new Client();
    this.firstRegistration = new Promise((r) => (this.resolveFirst = r));
    this.channels = new ChannelKeeper({
      channels: opts.channels,
      rejoinOnKick: opts.rejoinOnKick,
      backoff: opts.reconnect,
      join: (name, key) => this.client.join(name, key),
      schedule: this.schedule,
      logger: this.log,
    });
    this.nicks = new NickKeeper({
      client: this.client,
      nick: opts.nick,
      nickserv:
        o.nickservPassword === undefined
          ? undefined
          : { account: opts.nickserv?.account ?? opts.nick, password: o.nickservPassword },
      registered: () => this.isRegistered,
      logger: this.log,
    });
    this.queue = new SendQueue({
      bucket: new TokenBucket(opts.flood.burst, opts.flood.perSecond),
      maxQueue: opts.flood.maxQueue,
      send: (line) => {
        this.client.raw(line.notice ? "NOTICE" : "PRIVMSG", line.target, sanitizeLine(line.text));
        o.hooks?.lineSent?.(line);
      },
      onDrop: (line) => {
        this.log.warn("send queue full; dropped oldest line", { target: line.target });
        o.hooks?.lineDropped?.(line);
      },
      onStrangerDrop: (line) => o.hooks?.strangerLineDropped?.(line),
      schedule: this.schedule,
    });
    this.wire();
  }

  /** The nick the bot currently has. */
  get nick(): string {
    return this.client.user.nick;
  }

  /** True between registration and disconnect. */
  get registered(): boolean {
    return this.isRegistered;
  }

  /** How many times the connection registered (1 + reconnects). */
  get registrationCount(): number {
    return this.registrations;
  }

  /** True when the bot is in `channel`. */
  inChannel(channel: string): boolean {
    return this.channels.isJoined(channel);
  }

  /** Queues one message body (already split to size) for `target`, as `kind` says. */
  send(target: string, text: string, kind: LineKind = "reply"): void {
    if (text.trim() === "") return;
    if (kind === "reply") this.queue.push({ target, text });
    else if (kind === "notice") this.queue.push({ target, text, notice: true });
    else this.queue.push({ target, text, stranger: true });
  }

  /** Connects; resolves on first registration or after {@link START_WAIT_MS}. */
  async start(): Promise<void> {
    this.stopping = false;
    this.every(this.o.options.nickReclaimMs, () => this.nicks.reclaim());
    this.every(this.o.options.channelCheckMs, () => this.isRegistered && this.channels.check());
    this.client.connect({ ...this.o.client });
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((r) => (timer = setTimeout(r, START_WAIT_MS)));
    await Promise.race([this.firstRegistration, waited]);
    clearTimeout(timer);
    if (this.registrations === 0)
      this.log.warn("IRC not registered yet; still trying in the background");
  }

  /** Quits and stops reconnecting. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    for (const cancel of this.timers) cancel();
    this.timers = [];
    this.queue.pause();
    this.channels.reset();
    const wasConnected = this.client.connected;
    const closed = new Promise<void>((r) => this.client.on("close", () => r()));
    // Also ends a connection attempt still in progress.
    this.client.quit("Commodore shutting down");
    if (wasConnected) await Promise.race([closed, new Promise((r) => setTimeout(r, 1_000))]);
  }

  private every(ms: number, fn: () => void): void {
    const loop = (): void => {
      fn();
      this.timers.push(this.schedule(loop, ms));
    };
    this.timers.push(this.schedule(loop, ms));
  }

  private wire(): void {
    const c = this.client;
    const opts = this.o.options;
    c.on("registered", (e) => {
      this.attempt = 0;
      this.isRegistered = true;
      this.registrations += 1;
      this.log.info("IRC registered", { nick: e.nick });
      this.nicks.registered(e.nick);
      this.channels.registered();
      this.queue.resume();
      this.o.hooks?.registered?.();
      this.resolveFirst();
    });
    c.on("close", () => {
      this.isRegistered = false;
      this.nicks.reset();
      this.queue.pause();
      this.channels.reset();
      this.o.hooks?.disconnected?.();
      if (this.stopping) return;
      this.attempt += 1;
      const delay = backoffDelay(this.attempt, opts.reconnect);
      this.log.warn("IRC connection lost; reconnecting", { attempt: this.attempt, delayMs: delay });
      this.timers.push(
        this.schedule(() => this.stopping || c.connect({ ...this.o.client }), delay),
      );
    });
    c.on("socket error", (err) => this.log.warn("IRC socket error", { error: err.message }));
    c.on("join", (e) => sameNick(e.nick, this.nick) && this.channels.selfJoined(e.channel));
    c.on("part", (e) => sameNick(e.nick, this.nick) && this.channels.selfParted(e.channel));
    c.on(
      "kick",
      (e) =>
        sameNick(e.kicked, this.nick) && this.channels.selfKicked(e.channel, e.nick, e.message),
    );
    c.on("sasl failed", (e) => this.log.warn("SASL authentication failed", { reason: e.reason }));
    c.on("loggedin", (e) => this.log.info("logged in to services", { account: e.account }));
    c.on("irc error", (e) =>
      this.log.warn("IRC error", { error: e.error, channel: e.channel, reason: e.reason }),
    );
  }
}
