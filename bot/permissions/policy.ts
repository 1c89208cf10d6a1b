/**
 * Roles grant commands; a grant may pin argument values and `where` targets the caller cannot
 * override. Everything not granted is refused. Roles given to every caller (`defaultRoles`)
 * only ever authorize `read` commands, so `change` and `dangerous` stay default-deny.
 */
import type { Principal } from "../contract.ts";
import { PermissionDeniedError } from "../commands/errors.ts";
import type { ArgValues, CommandSpec, ParsedCommand, Risk } from "../commands/types.ts";

/** One grant: a command (or `*` for all), optional allowed argument values and pinned targets. */
export interface GrantConfig {
  readonly command: string;
  /** Allowed values per argument name; a single value is pinned when the caller omits it. */
  readonly args?: Readonly<Record<string, string | readonly string[]>> | undefined;
  /** Facts the targets must have; the caller may repeat them but not change them. */
  readonly where?: Readonly<Record<string, string>> | undefined;
  /** When a command this grant authorizes needs a second person (blast-radius approval). */
  readonly approval?: ApprovalRule | undefined;
}

/**
 * A grant's blast-radius rule: the command waits for another person's `confirm` when it
 * touches more than `hostsOver` hosts, or any host whose facts match every `where` glob.
 */
export interface ApprovalRule {
  readonly hostsOver?: number | undefined;
  readonly where?: Readonly<Record<string, string>> | undefined;
}

/** A command as a grant authorized it, with the grant's approval rule. */
export interface Authorized {
  readonly command: ParsedCommand;
  readonly approval?: ApprovalRule;
}

/** A role: a named list of grants. */
export interface RoleConfig {
  readonly grants: readonly GrantConfig[];
}

/** Roles and the roles every caller has. */
export interface PolicyConfig {
  readonly roles: Readonly<Record<string, RoleConfig>>;
  /** Roles applied to every caller, including anonymous ones; they only authorize `read`. */
  readonly defaultRoles: readonly string[];
}

/** Grant that matches every command. */
export const ANY_COMMAND = "*";

type Check = { ok: true; command: ParsedCommand } | { ok: false; reason: string };

function applyGrant(role: string, grant: GrantConfig, cmd: ParsedCommand): Check {
  const args: Record<string, ArgValues[string]> = { ...cmd.args };
  for (const [name, allowedRaw] of Object.entries(grant.args ?? {})) {
    const allowed = typeof allowedRaw === "string" ? [allowedRaw] : allowedRaw;
    const value = args[name];
    if (value === undefined && allowed.length === 1 && allowed[0] !== undefined) {
      args[name] = allowed[0];
      continue;
    }
    const text = Array.isArray(value) ? value.join(" ") : String(value ?? "");
    if (!allowed.includes(text))
      return {
        ok: false,
        reason: `role ${role} allows ${name} ${allowed.join(", ")} only, not "${text}"`,
      };
  }
  const where: Record<string, string> = { ...cmd.where };
  for (const [fact, pinned] of Object.entries(grant.where ?? {})) {
    const asked = where[fact];
    if (asked !== undefined && asked !== pinned)
      return {
        ok: false,
        reason: `role ${role} is limited to ${fact}=${pinned}, you asked for ${fact}=${asked}`,
      };
    where[fact] = pinned;
  }
  return { ok: true, command: { ...cmd, args, where } };
}

/** Decides who may run what. */
export class Policy {
  constructor(private readonly config: PolicyConfig) {}

  private grantsFor(principal: Principal, risk: Risk): Array<[string, GrantConfig]> {
    const roles = [...principal.roles];
    if (risk === "read") roles.push(...this.config.defaultRoles);
    return roles.flatMap((role) =>
      (this.config.roles[role]?.grants ?? []).map((g): [string, GrantConfig] => [role, g]),
    );
  }

  /** True when some role of the caller grants this command at all (for `help`). */
  mayRun(principal: Principal, spec: CommandSpec): boolean {
    if (spec.permission === "everyone") return true;
    return this.grantsFor(principal, "read").some(
      ([, g]) => g.command === spec.name || g.command === ANY_COMMAND,
    );
  }

  /**
   * True when a role of the caller grants command `name` itself (or `*`) for `risk`, whatever
   * the command's own permission says: for commands open to everyone that act on other people's
   * work only under a grant (`cancel`).
   */
  grants(principal: Principal, name: string, risk: Risk): boolean {
    return this.grantsFor(principal, risk).some(
      ([, g]) => g.command === name || g.command === ANY_COMMAND,
    );
  }

  /**
   * Returns the command with pinned arguments and targets applied, or throws
   * {@link PermissionDeniedError} naming why.
   */
  authorize(principal: Principal, cmd: ParsedCommand, risk: Risk): ParsedCommand {
    return this.authorizeGrant(principal, cmd, risk).command;
  }

  /** {@link authorize}, also naming the approval rule of the grant that allowed it. */
  authorizeGrant(principal: Principal, cmd: ParsedCommand, risk: Risk): Authorized {
    if (cmd.spec.permission === "everyone") return { command: cmd };
    const grants = this.grantsFor(principal, risk).filter(
      ([, g]) => g.command === cmd.spec.name || g.command === ANY_COMMAND,
    );
    let reason: string | undefined;
    let gated: Authorized | undefined;
    for (const [role, grant] of grants) {
      const check = applyGrant(role, grant, cmd);
      if (!check.ok) {
        reason ??= check.reason;
        continue;
      }
      // A grant without an approval rule entitles the caller outright; one with a rule
      // counts only when no such grant allows the command.
      if (grant.approval === undefined) return { command: check.command };
      gated ??= { command: check.command, approval: grant.approval };
    }
    if (gated !== undefined) return gated;
    if (reason !== undefined)
      throw new PermissionDeniedError(`${principal.id} may not run this: ${reason}`);
    const onlyDefault =
      risk !== "read" &&
      this.grantsFor(principal, "read").some(
        ([, g]) => g.command === cmd.spec.name || g.command === ANY_COMMAND,
      );
    throw new PermissionDeniedError(
      `${principal.id} may not run "${cmd.spec.name}"${onlyDefault ? ` (${risk} commands need a role of your own)` : ""}`,
      "ask an administrator for a role that grants it; `help` lists what you may run",
    );
  }
}
