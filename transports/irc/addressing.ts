/**
 * Decides whether an IRC message is a command for the bot, and extracts the command text.
 *
 * In channels the bot answers `commodore: …`, `commodore, …` and `<prefix>…` (e.g.
 * `!fleet uptime`); in private messages any text is a command. NOTICEs, CTCP and the bot's
 * own messages are never commands, so two bots can never talk each other into a loop.
 */
import { ircLower } from "./mask.ts";

/** What irc-framework tells us about one incoming message. */
export interface IncomingMessage {
  readonly kind: "privmsg" | "notice" | "action";
  readonly nick: string;
  /** A channel, or the bot's own nick for private messages. */
  readonly target: string;
  readonly text: string;
}

/** What the bot knows about itself when reading a message. */
export interface AddressingContext {
  /** Nicks the bot answers to: the current one and the configured one. */
  readonly nicks: readonly string[];
  /** Channel command prefix; empty disables prefixed commands. */
  readonly prefix: string;
  /** Channel type characters, from ISUPPORT CHANTYPES. */
  readonly channelTypes: string;
}

/** A message that is a command. */
export interface Addressed {
  readonly command: string;
  /** True for private messages. */
  readonly private: boolean;
  /** Where replies go: the channel, or the caller's nick for private messages. */
  readonly replyTo: string;
}

const CTCP_MARK = "\x01";

/** True when two nicks are the same under RFC 1459 case mapping. */
export function sameNick(a: string, b: string): boolean {
  return ircLower(a) === ircLower(b);
}

function stripAddress(text: string, nicks: readonly string[]): string | undefined {
  const match = /^\s*([^\s:,]+)\s*[:,]\s*/.exec(text);
  if (!match?.[1] || !nicks.some((n) => sameNick(n, match[1] ?? ""))) return undefined;
  return text.slice(match[0].length);
}

function stripPrefix(text: string, prefix: string): string | undefined {
  return prefix !== "" && text.startsWith(prefix) ? text.slice(prefix.length) : undefined;
}

/** Returns the command in `msg`, or undefined when the message is not for the bot. */
export function addressedCommand(
  msg: IncomingMessage,
  ctx: AddressingContext,
): Addressed | undefined {
  if (msg.kind !== "privmsg" || msg.text.startsWith(CTCP_MARK)) return undefined;
  if (ctx.nicks.some((n) => sameNick(n, msg.nick))) return undefined;
  const isChannel = msg.target !== "" && ctx.channelTypes.includes(msg.target.charAt(0));
  const explicit = stripAddress(msg.text, ctx.nicks) ?? stripPrefix(msg.text, ctx.prefix);
  const text = isChannel ? explicit : (explicit ?? msg.text);
  const command = text?.trim() ?? "";
  if (command === "") return undefined;
  return isChannel
    ? { command, private: false, replyTo: msg.target }
    : { command, private: true, replyTo: msg.nick };
}
