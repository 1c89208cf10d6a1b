/**
 * The plug point for the places commands come from. `commodore start` builds a list of them
 * (app/services.ts) and starts it in order, stopping it in reverse.
 *
 * A transport turns its own input into a bot invocation, resolves its own callers into
 * principals of the principal directory (identity/directory.ts), and formats the bot's structured replies for
 * its own medium. It owns its connection life cycle.
 */
import type { TransportName } from "./contract.ts";

/** A running source of commands: a listener or a connection the runtime starts and stops. */
export interface Transport {
  /**
   * Stable name used in logs and audit lines: a {@link TransportName} (`irc`, `http`) for the
   * transports of the core's contract, any word for others.
   */
  readonly name: TransportName | (string & {});
  /** Connects or starts listening. Resolves once the transport can take commands. */
  start(): Promise<void>;
  /** Stops taking commands and closes its connections. Idempotent. */
  stop(): Promise<void>;
}
