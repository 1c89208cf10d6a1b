/**
 * The confirmation steps: a `dangerous` command is parked under a short code instead of
 * running, and `confirm <code>` (within the TTL, once, optionally by someone else) swaps the
 * parked command back in. The parked record is sealed (see confirm/store.ts): a planted,
 * edited or moved one is refused with E_CONFIRM_TAMPERED, a consumed one written back with
 * E_CONFIRM_REPLAYED.
 */
import { CommodoreError } from "../../lib/errors.ts";
import { CONFIRM_COMMAND } from "../commands/builtins/confirm.ts";
import type { CommandRegistry } from "../commands/registry.ts";
import type { ConfirmStore, PendingConfirmation } from "../confirm/store.ts";
import type { Policy } from "../permissions/policy.ts";
import type { Middleware } from "./context.ts";

/** Settings of the confirmation gate. */
export interface ConfirmSettings {
  /** When true, the person who confirms must differ from the one who asked. */
  readonly requireOtherPerson: boolean;
}

/** Replaces `confirm <code>` with the command it confirms, authorized for the confirmer too. */
export function resolveConfirmStep(
  store: ConfirmStore,
  registry: CommandRegistry,
  policy: Policy,
): Middleware {
  return async (ctx, next) => {
    if (ctx.command?.spec.name !== CONFIRM_COMMAND) return await next();
    const code = String(ctx.command.args["code"]).toLowerCase();
    const me = ctx.invocation.principal;
    const checkConfirmer = (pending: PendingConfirmation | undefined) => {
      if (pending?.needsOtherPerson === true && pending.requester.id === me.id)
        throw new CommodoreError(
          "E_CONFIRM_SAME_PERSON",
          `${pending.text} needs confirmation by someone other than ${me.id}`,
          { hint: `ask a colleague to say \`confirm ${code}\`` },
        );
    };
    // Both reads verify the sealed record (E_CONFIRM_TAMPERED, E_CONFIRM_REPLAYED). The peek
    // keeps a same-person attempt from using the code up; the check is repeated on the record
    // actually taken in case another one was written in between.
    checkConfirmer(await store.peek(code));
    const taken = await store.take(code);
    if (!taken)
      throw new CommodoreError("E_CONFIRM_UNKNOWN", `no pending command with code ${code}`, {
        hint: "codes work once and expire after a few minutes; run the command again",
      });
    checkConfirmer(taken);
    const spec = registry.resolve(taken.command);
    const parked = {
      spec,
      typed: taken.command,
      args: taken.args,
      where: taken.where,
      ...(taken.filters === undefined ? {} : { filters: taken.filters }),
      ...(taken.options === undefined ? {} : { options: taken.options }),
    };
    ctx.command = policy.authorize(me, parked, taken.risk);
    ctx.risk = taken.risk;
    ctx.targets = taken.targets;
    ctx.requester = taken.requester;
    ctx.confirmedBy = me.id;
    ctx.commandText = taken.text;
    await next();
  };
}

/**
 * Parks dangerous commands, and commands a grant's blast-radius rule gates (those always need
 * another person), that are not yet confirmed, and tells the caller the code.
 */
export function confirmGateStep(store: ConfirmStore, settings: ConfirmSettings): Middleware {
  return async (ctx, next) => {
    const cmd = ctx.command;
    const risk = ctx.risk;
    const gated = risk === "dangerous" || ctx.approval !== undefined;
    if (cmd === undefined || risk === undefined || !gated || ctx.confirmedBy !== undefined)
      return await next();
    const inv = ctx.invocation;
    const hosts = ctx.targets === undefined ? "" : ` on ${ctx.targets.length} hosts`;
    const pending = await store.put({
      requester: inv.principal,
      transport: inv.transport,
      ...(inv.origin === undefined ? {} : { origin: inv.origin }),
      text: inv.text,
      command: cmd.spec.name,
      args: cmd.args,
      where: cmd.where,
      ...(cmd.filters === undefined ? {} : { filters: cmd.filters }),
      ...(cmd.options === undefined ? {} : { options: cmd.options }),
      risk,
      targets: ctx.targets ?? [],
      summary: `would run "${inv.text}"${hosts}${ctx.approval === undefined ? "" : `; needs another person's approval: ${ctx.approval}`}`,
      needsOtherPerson: settings.requireOtherPerson || ctx.approval !== undefined,
    });
    ctx.outcome = "pending_confirmation";
    ctx.sink({
      type: "confirm",
      code: pending.code,
      summary: pending.summary,
      expiresAt: pending.expiresAt,
      needsOtherPerson: pending.needsOtherPerson,
    });
  };
}
