/**
 * A real ngIRCd, the IRC transport connected to it and a scripted bot behind it, plus real
 * clients: the shared setup of the IRC integration tests. The lead's full-stack test can pass
 * a real CommandHandler instead of the scripted one.
 */
import type { JobReadCheck } from "../../bot/commands/job-access.ts";
import type { CommandHandler, Principal } from "../../bot/contract.ts";
import { startIrcd, type TestIrcd } from "../harness/ngircd.ts";
import { connectIrcClient, type TestIrcClient } from "../harness/irc-client.ts";
import { waitFor } from "../harness/ports.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import { IrcTransport } from "../../transports/irc/irc-transport.ts";
import { parseIrcOptions, type IrcOptionsInput } from "../../transports/irc/options.ts";
import type { IrcUser } from "../../transports/irc/identity.ts";

/** The channel the bot serves in tests. */
export const CHANNEL = "#ops";
/** The bot's configured nick. */
export const BOT = "commodore";

/** The bot's `irc` section for `ircd`: plain TCP, nick {@link BOT}, serving {@link CHANNEL}. */
export function ircSection(ircd: TestIrcd) {
  return {
    host: ircd.host,
    port: ircd.port,
    tls: { enabled: false },
    nick: BOT,
    channels: [{ name: CHANNEL }],
  };
}

/** Principals by nick; the user must come from loopback with a matching ident. */
export function principalsByNick(...nicks: string[]): (user: IrcUser) => Principal | undefined {
  return (user) => {
    if (!nicks.includes(user.nick) || !user.ident.endsWith(user.nick)) return undefined;
    if (user.hostname !== "127.0.0.1") return undefined;
    return {
      id: user.nick,
      roles: ["ops"],
      display: `${user.nick}!${user.ident}@${user.hostname}`,
    };
  };
}

/** Everything an IRC integration test talks to. */
export interface IrcWorld {
  readonly ircd: TestIrcd;
  readonly bot: IrcTransport;
  /** The bot's metrics. */
  readonly metrics: MetricsRegistry;
  /** Connects a real client and remembers it for cleanup. */
  connect(nick: string): Promise<TestIrcClient>;
  /** Creates and starts the bot, waiting until it is in {@link CHANNEL}. */
  startBot(handler: CommandHandler, overrides?: Partial<IrcOptionsInput>): Promise<IrcTransport>;
  close(): Promise<void>;
}

/**
 * Starts ngIRCd; the bot is started with {@link IrcWorld.startBot}. `jobAccess` decides `more`
 * for callers other than a job's owner (default: everyone may).
 */
export async function ircWorld(
  resolvePrincipal: (user: IrcUser) => Principal | undefined = principalsByNick("alice"),
  jobAccess: JobReadCheck = () => undefined,
): Promise<IrcWorld> {
  const ircd = await startIrcd();
  const clients: TestIrcClient[] = [];
  const metrics = new MetricsRegistry();
  let bot: IrcTransport | undefined;
  return {
    ircd,
    metrics,
    get bot(): IrcTransport {
      if (!bot) throw new Error("startBot first");
      return bot;
    },
    async connect(nick) {
      const c = await connectIrcClient(ircd.host, ircd.port, nick);
      clients.push(c);
      return c;
    },
    async startBot(handler, overrides = {}) {
      bot = new IrcTransport({
        options: parseIrcOptions({
          ...ircSection(ircd),
          reconnect: { baseMs: 100, capMs: 400 },
          progressIntervalMs: 500,
          ...overrides,
        }),
        handler,
        resolvePrincipal,
        jobUrl: (id, principalId) => `https://commodore.test/jobs/${id}?for=${principalId}`,
        jobAccess,
        metrics,
      });
      await bot.start();
      const started = bot;
      await waitFor("bot in channel", () => started.inChannel(CHANNEL));
      return bot;
    },
    async close() {
      await bot?.stop();
      for (const c of clients) await c.quit();
      await ircd.stop();
    },
  };
}
