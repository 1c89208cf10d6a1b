/**
 * The plug point for the places commands come from: IRC, HTTP, voice.
 *
 * A transport turns its own input into a bot invocation, and formats the bot's structured
 * replies for its own medium. It owns its connection life cycle.
 */
export interface Transport {
  /** Stable name used in audit lines and principals, e.g. `irc`, `http`, `voice`. */
  readonly name: string;
  /** Connects or starts listening. Resolves once the transport can take commands. */
  start(): Promise<void>;
  /** Stops taking commands and closes connections. Idempotent. */
  stop(): Promise<void>;
}
