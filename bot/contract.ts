/**
 * The contract between transports and the bot.
 *
 * A transport resolves who is speaking into a {@link Principal}, hands the bot an
 * {@link Invocation}, and receives {@link BotEvent}s through a sink. Events are structured:
 * each transport formats them for its own medium (IRC lines, JSON, speech).
 */
import type { FleetProgress, FleetResult, NodeInfo } from "../executors/fleet/index.ts";

/** Names of the transports a command can come from. */
export type TransportName = "irc" | "http" | "voice" | "cli";

/** An authenticated caller with its roles. */
export interface Principal {
  /** Stable id used in permissions, audit lines and protocol signatures, e.g. `alice`. */
  readonly id: string;
  /** Roles granted to this principal by configuration. */
  readonly roles: readonly string[];
  /** How the caller appeared on its transport, for audit (`alice!a@host`, `token:ci`). */
  readonly display: string;
}

/** One command as a transport hands it to the bot. */
export interface Invocation {
  readonly principal: Principal;
  readonly transport: TransportName;
  /** The command text, e.g. `fleet uptime where role=web`. */
  readonly text: string;
  /** Where the command was typed (IRC channel, HTTP route), for audit and notices. */
  readonly origin?: string;
}

/** The structured result of a finished command. */
export type CommandResult =
  | { readonly kind: "fleet"; readonly fleet: FleetResult }
  | { readonly kind: "nodes"; readonly nodes: readonly NodeInfo[] }
  | { readonly kind: "text"; readonly title?: string; readonly lines: readonly string[] }
  | {
      readonly kind: "data";
      readonly title: string;
      readonly data: unknown;
      readonly lines: readonly string[];
    };

/** Everything the bot can tell a transport while and after it handles an invocation. */
export type BotEvent =
  /** A job was created for the invocation. */
  | { readonly type: "accepted"; readonly jobId: string; readonly command: string }
  /** Progress of a running fleet job. */
  | { readonly type: "fleet-progress"; readonly jobId: string; readonly progress: FleetProgress }
  /** Progress of another executor's job, as one human line. */
  | { readonly type: "progress"; readonly jobId: string; readonly line: string }
  /** The command finished (successfully or with failed targets; see the result). */
  | {
      readonly type: "result";
      readonly jobId?: string;
      readonly ok: boolean;
      readonly result: CommandResult;
    }
  /** A dangerous command awaits `confirm <code>`. */
  | {
      readonly type: "confirm";
      readonly code: string;
      /** What would happen, e.g. `would run "fleet restart nginx" on 42 hosts`. */
      readonly summary: string;
      readonly expiresAt: string;
      /** True when a different principal must confirm. */
      readonly needsOtherPerson: boolean;
    }
  /** The command was refused or could not be parsed. */
  | {
      readonly type: "error";
      /** Stable code such as `E_PERMISSION_DENIED`, `E_UNKNOWN_COMMAND`. */
      readonly code: string;
      readonly message: string;
      readonly hint?: string;
    };

/** Receives events for one invocation, in order. Must not throw. */
export type BotSink = (event: BotEvent) => void;

/** What transports call. */
export interface CommandHandler {
  /**
   * Handles one invocation. Resolves when the command has finished (or was refused); events
   * arrive through `sink` before that.
   */
  handle(invocation: Invocation, sink: BotSink): Promise<void>;
}
