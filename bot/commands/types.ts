/**
 * What a command declares about itself, and what it is given when it runs.
 */
import type { BotSink, CommandResult, Invocation, Principal } from "../contract.ts";
import type { FactCondition, FactFilter, HostAmount } from "../../executors/fleet/index.ts";

/** How much a command can change the world. */
export type Risk = "read" | "change" | "dangerous";

/** Ordering of risks, lowest first. */
export const RISK_ORDER: Readonly<Record<Risk, number>> = { read: 0, change: 1, dangerous: 2 };

/** One declared argument. Arguments are positional, in declaration order. */
export type ArgSpec =
  | {
      readonly name: string;
      readonly kind: "word";
      readonly required: boolean;
      readonly help: string;
      /** Accepted values; an unknown value gets a did-you-mean suggestion. */
      readonly choices?: () => readonly string[];
    }
  | {
      readonly name: string;
      readonly kind: "int";
      readonly required: boolean;
      readonly help: string;
      readonly min: number;
      readonly max: number;
    }
  /** All remaining words (before `where`). Must be the last argument. */
  | { readonly name: string; readonly kind: "rest"; readonly help: string }
  /**
   * A switch `--<name>` anywhere before `where`; its value is {@link FLAG_SET} when given and
   * absent otherwise (so a grant `args: { <name>: "yes" }` forces it on).
   */
  | { readonly name: string; readonly kind: "flag"; readonly help: string };

/** The value of a flag argument that was given. */
export const FLAG_SET = "yes";

/** One declared `--name value` option. */
export type OptionSpec =
  | { readonly name: string; readonly kind: "amount"; readonly help: string }
  | { readonly name: string; readonly kind: "list"; readonly help: string }
  | {
      readonly name: string;
      readonly kind: "int";
      readonly help: string;
      readonly min: number;
      readonly max: number;
    };

/** Parsed option values by name: host amounts (`N`, `N%`), integers or name lists. */
export type OptionValues = Readonly<Record<string, HostAmount | number | readonly string[]>>;

/** Parsed argument values by name: words, integers or word lists. */
export type ArgValues = Readonly<Record<string, string | number | readonly string[]>>;

/** A command after parsing: which spec, its argument values and its `where` filter. */
export interface ParsedCommand {
  readonly spec: CommandSpec;
  /** The name the caller typed (may be an alias). */
  readonly typed: string;
  readonly args: ArgValues;
  readonly where: FactFilter;
  /** `where` terms other than `fact=glob` (`!=`, `=/regex/`, numeric comparisons). */
  readonly filters?: readonly FactCondition[];
  /** Declared `--name value` options that were given. */
  readonly options?: OptionValues;
}

/** Whether a command needs a grant at all. */
export type PermissionPolicy = "grant" | "everyone";

/** What a command's `run` receives. */
export interface RunContext {
  readonly invocation: Invocation;
  /** Whose command runs: the caller, or for a confirmed command the one who asked for it. */
  readonly principal: Principal;
  readonly command: ParsedCommand;
  readonly jobId: string;
  /** Progress and other events for the caller, also recorded on the job. */
  readonly sink: BotSink;
  readonly signal: AbortSignal;
}

/** What a command returns: the structured result and whether it succeeded. */
export interface RunOutcome {
  readonly ok: boolean;
  readonly result: CommandResult;
}

/** A command as registered with the bot. */
export interface CommandSpec {
  readonly name: string;
  readonly aliases: readonly string[];
  /** One line for `help`. */
  readonly summary: string;
  /** Usage line, e.g. `fleet <provider> [args…] [where fact=glob …]`. */
  readonly usage: string;
  readonly examples: readonly string[];
  readonly args: readonly ArgSpec[];
  /** `--name value` options, accepted anywhere before `where`. */
  readonly options?: readonly OptionSpec[];
  /** True when the command takes a `where fact=glob …` filter. */
  readonly takesWhere: boolean;
  /** `everyone`: no grant needed (help, confirm). `grant`: a role must grant it. */
  readonly permission: PermissionPolicy;
  /** Risk of one parsed invocation (may depend on its arguments). */
  risk(command: ParsedCommand): Risk;
  /** Hosts the command would touch, when it targets hosts; used for confirmation and audit. */
  targets?(command: ParsedCommand): Promise<readonly string[]>;
  /** Runs the command. Absent only for `confirm`, which the bot pipeline handles itself. */
  run?(ctx: RunContext): Promise<RunOutcome>;
}
