/**
 * Roles grant commands; a grant may pin argument values and `where` targets the caller cannot
 * override. Everything not granted is refused. Roles given to every caller (`defaultRoles`)
 * only ever authorize `read` invocations, so `change` and `dangerous` stay default-deny.
 *
 * **Read grants never imply change.** A command may have read uses and change uses (`nodes`
 * lists hosts and revokes them; `fleet ping` reads, `fleet exec` changes). A grant of such a
 * command authorizes a `change` or `dangerous` invocation only when it names that use: its
 * `args` list the invocation's value of an enumerated argument that selects the risk (a word
 * with choices or a flag whose other values make the same invocation a read, such as
 * `nodes`' `action` or `fleet`'s `provider`): `{command: nodes, args: {action: revoke}}`. A bare
 * `{command: nodes}` authorizes only its read uses, and so will any action added later that the
 * command's own `risk()` calls `change`. A command with no read use at all (`provision`,
 * `cancel`) is granted whole by naming it; `*` grants everything. The risk is computed on the
 * command as the grant leaves it (after pinned values are filled in), so a pin cannot turn a
 * read into an unchecked change.
 */
import type { Principal } from "../contract.ts";
import { PermissionDeniedError } from "../commands/errors.ts";
import {
  FLAG_SET,
  RISK_ORDER,
  type ArgSpec,
  type ArgValues,
  type CommandSpec,
  type ParsedCommand,
  type Risk,
} from "../commands/types.ts";

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
  /**
   * The risk of the authorized command: the risk asked about, raised to the command's own
   * `risk()` after pinned values were applied.
   */
  readonly risk: Risk;
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

/** A grant as one of the caller's roles holds it. */
interface HeldGrant {
  readonly role: string;
  readonly grant: GrantConfig;
  /** True when the role is only one of `defaultRoles`, not one of the caller's own. */
  readonly byDefault: boolean;
}

const listOf = (v: string | readonly string[]): readonly string[] =>
  typeof v === "string" ? [v] : v;

/** The higher of two risks. */
export function maxRisk(a: Risk, b: Risk): Risk {
  return RISK_ORDER[a] >= RISK_ORDER[b] ? a : b;
}

/** An argument with a known set of values. */
export interface EnumeratedArg {
  readonly arg: ArgSpec;
  readonly values: readonly string[];
}

/**
 * The enumerated arguments of a command and their values (absent not included): words with
 * `choices` and flags. Only these can select an invocation's use, so only these name one.
 */
export function enumeratedArgs(spec: CommandSpec): readonly EnumeratedArg[] {
  return spec.args.flatMap((arg): EnumeratedArg[] => {
    if (arg.kind === "flag") return [{ arg, values: [FLAG_SET] }];
    if (arg.kind === "word" && arg.choices !== undefined) return [{ arg, values: arg.choices() }];
    return [];
  });
}

function probe(spec: CommandSpec, args: ArgValues): ParsedCommand {
  return { spec, typed: spec.name, args, where: {} };
}

function riskOf(cmd: ParsedCommand): Risk {
  try {
    return cmd.spec.risk(cmd);
  } catch {
    // A probe a command cannot classify counts as changing something.
    return "change";
  }
}

const readUsesCache = new WeakMap<CommandSpec, boolean>();

/**
 * True when some invocation of the command is `read`: the bare command, or the bare command
 * with one enumerated argument set to one of its values (the command's own `risk()` decides).
 */
export function hasReadUses(spec: CommandSpec): boolean {
  const known = readUsesCache.get(spec);
  if (known !== undefined) return known;
  const probes = [
    probe(spec, {}),
    ...enumeratedArgs(spec).flatMap(({ arg, values }) =>
      values.map((v) => probe(spec, { [arg.name]: v })),
    ),
  ];
  const found = probes.some((p) => riskOf(p) === "read");
  readUsesCache.set(spec, found);
  return found;
}

/**
 * The enumerated arguments of `cmd` that select its risk: those with a value in `cmd` whose
 * other values (or absence), the rest of `cmd` unchanged, make it a `read` invocation.
 * `nodes revoke web01` → `action`; `fleet exec uptime` → `provider`.
 */
export function riskSelectingArgs(cmd: ParsedCommand): readonly string[] {
  return enumeratedArgs(cmd.spec).flatMap(({ arg, values }) => {
    const own = cmd.args[arg.name];
    if (own === undefined) return [];
    const rest: Record<string, ArgValues[string]> = { ...cmd.args };
    delete rest[arg.name];
    const variants: ArgValues[] = [rest, ...values.map((v) => ({ ...rest, [arg.name]: v }))];
    return variants.some((args) => riskOf({ ...cmd, args }) === "read") ? [arg.name] : [];
  });
}

/**
 * True when `grant` (already checked to allow `cmd`) reaches `cmd`'s change use: `*`, a
 * command without read uses, or `args` that list `cmd`'s value of a risk-selecting argument.
 */
function namesChangeUse(grant: GrantConfig, cmd: ParsedCommand): boolean {
  if (grant.command === ANY_COMMAND || !hasReadUses(cmd.spec)) return true;
  return riskSelectingArgs(cmd).some((name) => {
    const allowed = grant.args?.[name];
    const value = cmd.args[name];
    return allowed !== undefined && value !== undefined && listOf(allowed).includes(String(value));
  });
}

/** `nodes revoke`: the command name and the values of its risk-selecting arguments. */
function useOf(cmd: ParsedCommand): string {
  const words = riskSelectingArgs(cmd).map((name) => String(cmd.args[name]));
  return [cmd.spec.name, ...words].join(" ");
}

/** The grant that would authorize `cmd`'s use, as YAML flow: `{command: nodes, args: {action: revoke}}`. */
export function grantFor(cmd: ParsedCommand): string {
  const pins = riskSelectingArgs(cmd).map((name) => `${name}: ${String(cmd.args[name])}`);
  return pins.length === 0
    ? `{command: ${cmd.spec.name}}`
    : `{command: ${cmd.spec.name}, args: {${pins.join(", ")}}}`;
}

function applyGrant(role: string, grant: GrantConfig, cmd: ParsedCommand): Check {
  const args: Record<string, ArgValues[string]> = { ...cmd.args };
  for (const [name, allowedRaw] of Object.entries(grant.args ?? {})) {
    const allowed = listOf(allowedRaw);
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

const ADMIN_HINT = "ask an administrator for a role that grants it; `help` lists what you may run";

/** Decides who may run what. */
export class Policy {
  constructor(private readonly config: PolicyConfig) {}

  /** The caller's own roles' grants, then those of default roles they do not hold themselves. */
  private held(principal: Principal): HeldGrant[] {
    const own = [...new Set(principal.roles)];
    const byDefault = this.config.defaultRoles.filter((r) => !own.includes(r));
    const of = (role: string, isDefault: boolean) =>
      (this.config.roles[role]?.grants ?? []).map((grant): HeldGrant => ({
        role,
        grant,
        byDefault: isDefault,
      }));
    return [...own.flatMap((r) => of(r, false)), ...byDefault.flatMap((r) => of(r, true))];
  }

  private grantsFor(principal: Principal, risk: Risk): HeldGrant[] {
    return this.held(principal).filter((h) => risk === "read" || !h.byDefault);
  }

  /** True when some role of the caller grants this command at all (for `help`). */
  mayRun(principal: Principal, spec: CommandSpec): boolean {
    if (spec.permission === "everyone") return true;
    return this.grantsFor(principal, "read").some(
      ({ grant: g }) => g.command === spec.name || g.command === ANY_COMMAND,
    );
  }

  /**
   * True when a role of the caller grants command `name` itself (or `*`) for `risk`, whatever
   * the command's own permission says: for commands open to everyone that act on other people's
   * work only under a grant (`cancel`, which has no read use, so naming it grants it).
   */
  grants(principal: Principal, name: string, risk: Risk): boolean {
    return this.grantsFor(principal, risk).some(
      ({ grant: g }) => g.command === name || g.command === ANY_COMMAND,
    );
  }

  /**
   * Returns the command with pinned arguments and targets applied, or throws
   * {@link PermissionDeniedError} naming why and which grant would allow it.
   */
  authorize(principal: Principal, cmd: ParsedCommand, risk: Risk): ParsedCommand {
    return this.authorizeGrant(principal, cmd, risk).command;
  }

  /** {@link authorize}, also naming the approval rule of the grant that allowed it. */
  authorizeGrant(principal: Principal, cmd: ParsedCommand, asked: Risk): Authorized {
    if (cmd.spec.permission === "everyone") return { command: cmd, risk: asked };
    const held = this.held(principal).filter(
      ({ grant: g }) => g.command === cmd.spec.name || g.command === ANY_COMMAND,
    );
    let reason: string | undefined;
    let readOnly: { role: string; cmd: ParsedCommand; byDefault: boolean } | undefined;
    let gated: Authorized | undefined;
    // A grant whose pinned values raise the invocation's risk counts only when no grant
    // allows it as asked: `nodes` stays a listing for a role that may also accept.
    let raised: Authorized | undefined;
    for (const { role, grant, byDefault } of held) {
      const check = applyGrant(role, grant, cmd);
      if (!check.ok) {
        reason ??= check.reason;
        continue;
      }
      const risk = maxRisk(asked, riskOf(check.command));
      if (risk !== "read" && (byDefault || !namesChangeUse(grant, check.command))) {
        readOnly ??= { role, cmd: check.command, byDefault };
        continue;
      }
      const found: Authorized =
        grant.approval === undefined
          ? { command: check.command, risk }
          : { command: check.command, approval: grant.approval, risk };
      if (risk !== asked) {
        raised ??= found;
        continue;
      }
      // A grant without an approval rule entitles the caller outright; one with a rule
      // counts only when no such grant allows the command.
      if (grant.approval === undefined) return found;
      gated ??= found;
    }
    const allowed = gated ?? raised;
    if (allowed !== undefined) return allowed;
    // A grant of the caller's own that stops at read uses says most; then a pinned value or
    // target the caller went against; then a default role that cannot change anything.
    if (readOnly !== undefined && (!readOnly.byDefault || reason === undefined)) {
      const use = useOf(readOnly.cmd);
      const risk = maxRisk(asked, riskOf(readOnly.cmd));
      throw new PermissionDeniedError(
        readOnly.byDefault
          ? `${principal.id} may not run "${use}" (${risk} commands need a role of your own; role ${readOnly.role} is everyone's and authorizes read uses only)`
          : `${principal.id} may not run "${use}": role ${readOnly.role} grants ${cmd.spec.name} for its read uses only, and "${use}" is ${risk}`,
        `a ${risk} use needs a grant naming it: ask an administrator to add ${grantFor(readOnly.cmd)} to a role of yours`,
      );
    }
    if (reason !== undefined)
      throw new PermissionDeniedError(`${principal.id} may not run this: ${reason}`);
    throw new PermissionDeniedError(`${principal.id} may not run "${cmd.spec.name}"`, ADMIN_HINT);
  }
}
