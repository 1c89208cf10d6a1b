/**
 * A real IRC client (irc-framework) for tests: connects to a test server, joins channels,
 * records every PRIVMSG/NOTICE/JOIN/raw line it sees and waits for lines matching a pattern.
 */
import { Client } from "irc-framework";
import { waitFor } from "./ports.ts";

/** One message the observer saw. */
export interface SeenMessage {
  readonly kind: "privmsg" | "notice";
  readonly from: string;
  readonly target: string;
  readonly text: string;
}

/** A connected test IRC user. */
export interface TestIrcClient {
  readonly nick: string;
  readonly client: Client;
  /** Every PRIVMSG and NOTICE received, in order. */
  readonly messages: SeenMessage[];
  /** Every raw line received from the server. */
  readonly raw: string[];
  say(target: string, text: string): void;
  join(channel: string): Promise<void>;
  /** Messages from `from` (to any target, or to `target`) collected so far. */
  from(from: string, target?: string): string[];
  /** Waits until `count` messages from `from` match `pattern`; returns all matches. */
  waitForLines(
    from: string,
    pattern: RegExp,
    count?: number,
    timeoutMs?: number,
  ): Promise<string[]>;
  quit(): Promise<void>;
}

/** Connects a real client as `nick` and resolves once it is registered. */
export async function connectIrcClient(
  host: string,
  port: number,
  nick: string,
): Promise<TestIrcClient> {
  const client = new Client();
  const messages: SeenMessage[] = [];
  const raw: string[] = [];
  const joined = new Set<string>();
  let registered = false;
  client.on("registered", () => (registered = true));
  client.on("privmsg", (e) =>
    messages.push({ kind: "privmsg", from: e.nick, target: e.target, text: e.message }),
  );
  client.on("notice", (e) =>
    messages.push({ kind: "notice", from: e.nick, target: e.target, text: e.message }),
  );
  client.on("join", (e) => e.nick === client.user.nick && joined.add(e.channel.toLowerCase()));
  client.on("raw", (e) => e.from_server && raw.push(e.line));
  client.connect({
    host,
    port,
    nick,
    username: nick,
    gecos: nick,
    auto_reconnect: false,
    message_max_length: 450,
  });
  await waitFor(`${nick} registered`, () => registered);
  const from = (who: string, target?: string) =>
    messages
      .filter(
        (m) =>
          m.kind === "privmsg" && m.from === who && (target === undefined || m.target === target),
      )
      .map((m) => m.text);
  return {
    nick,
    client,
    messages,
    raw,
    say: (target, text) => client.say(target, text),
    async join(channel) {
      client.join(channel);
      await waitFor(`${nick} in ${channel}`, () => joined.has(channel.toLowerCase()));
    },
    from,
    async waitForLines(who, pattern, count = 1, timeoutMs = 10_000) {
      await waitFor(
        `${count} line(s) from ${who} matching ${pattern}`,
        () => from(who).filter((l) => pattern.test(l)).length >= count,
        timeoutMs,
      );
      return from(who).filter((l) => pattern.test(l));
    },
    async quit() {
      if (!client.connected) return;
      const closed = new Promise<void>((r) => client.on("close", () => r()));
      client.quit("bye");
      await Promise.race([closed, new Promise((r) => setTimeout(r, 1_000))]);
    },
  };
}
