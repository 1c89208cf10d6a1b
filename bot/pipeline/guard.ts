/**
 * The outer steps: turn thrown errors into `error` events, and write one audit line per
 * invocation whatever happened.
 */
import { CommodoreError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import type { Counter, Histogram } from "../../lib/metrics.ts";
import type { AuditLog } from "../audit/log.ts";
import type { Middleware } from "./context.ts";

/** Error codes that mean "refused" rather than "broke". */
const REFUSAL_CODES = new Set([
  "E_SYNTAX",
  "E_UNKNOWN_COMMAND",
  "E_BAD_ARGUMENT",
  "E_PERMISSION_DENIED",
  "E_NOT_FOUND",
  "E_CONFIRM_UNKNOWN",
  "E_CONFIRM_SAME_PERSON",
  "E_CONFIRM_TAMPERED",
  "E_CONFIRM_REPLAYED",
  "E_NODE_NOT_REGISTERED",
  "E_NODE_FINGERPRINT",
  "E_NODE_STATE",
  "E_FILTER_TOO_COSTLY",
  "E_NODE_REVOKED",
  "E_NO_MATCH",
]);
const MS_PER_SECOND = 1_000;

/** Catches errors from later steps and reports them to the caller with their code and hint. */
export function errorStep(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const known = err instanceof CommodoreError;
      const code = known ? err.code : "E_INTERNAL";
      const message = known ? err.message : "internal error; the bot log has the details";
      if (!known) logger.error("command failed", { error: err, jobId: ctx.jobId });
      ctx.outcome = REFUSAL_CODES.has(code) ? "refused" : "error";
      ctx.errorCode = code;
      ctx.errorMessage = message;
      ctx.sink(
        known && err.hint !== undefined
          ? { type: "error", code, message, hint: err.hint }
          : { type: "error", code, message },
      );
    }
  };
}

/** Writes the audit line and counts the command once the rest of the chain is done. */
export function auditStep(audit: AuditLog, commands: Counter, latency: Histogram): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      const inv = ctx.invocation;
      const cmd = ctx.command;
      const outcome = ctx.outcome ?? "error";
      const durationMs = Date.now() - ctx.startedAt;
      const name = cmd?.spec.name ?? "unknown";
      commands.inc({ command: name, transport: inv.transport, outcome });
      latency.observe(durationMs / MS_PER_SECOND, { command: name });
      await audit.write({
        time: new Date(ctx.startedAt).toISOString(),
        principal: inv.principal.id,
        display: inv.principal.display,
        transport: inv.transport,
        ...(inv.origin === undefined ? {} : { origin: inv.origin }),
        text: inv.text,
        ...(cmd === undefined ? {} : { command: name, args: cmd.args, where: cmd.where }),
        ...(ctx.targets === undefined ? {} : { targets: ctx.targets }),
        ...(ctx.jobId === undefined ? {} : { jobId: ctx.jobId }),
        outcome,
        ...(ctx.errorCode === undefined ? {} : { code: ctx.errorCode }),
        ...(ctx.errorMessage === undefined ? {} : { message: ctx.errorMessage }),
        ...(ctx.confirmedBy === undefined || ctx.requester.id === inv.principal.id
          ? {}
          : { requestedBy: ctx.requester.id }),
        durationMs,
      });
    }
  };
}
