/** `audit [n]`: the latest audit entries, for those allowed to see them. */
import type { AuditEntry, AuditLog } from "../../audit/log.ts";
import type { CommandSpec, RunContext, RunOutcome } from "../types.ts";

/** Entries shown when no count is given. */
export const DEFAULT_AUDIT_SHOWN = 10;
/** Most entries one `audit` shows. */
export const MAX_AUDIT_SHOWN = 200;

/** One human line per entry. */
function auditLine(e: AuditEntry): string {
  const job = e.jobId === undefined ? "" : ` ${e.jobId}`;
  const code = e.code === undefined ? "" : ` ${e.code}`;
  return `${e.time} ${e.principal}@${e.transport} ${e.outcome}${code}${job}: ${e.text}`;
}

/** Creates the `audit` command. */
export function auditCommand(audit: AuditLog): CommandSpec {
  return {
    name: "audit",
    aliases: [],
    summary: "show the latest audit log entries",
    usage: "audit [count]",
    examples: ["audit", "audit 50"],
    args: [
      {
        name: "count",
        kind: "int",
        required: false,
        min: 1,
        max: MAX_AUDIT_SHOWN,
        help: `how many entries (default ${DEFAULT_AUDIT_SHOWN})`,
      },
    ],
    takesWhere: false,
    permission: "grant",
    risk: () => "read",
    async run(ctx: RunContext): Promise<RunOutcome> {
      const count = ctx.command.args["count"];
      const entries = await audit.latest(typeof count === "number" ? count : DEFAULT_AUDIT_SHOWN);
      return {
        ok: true,
        result: {
          kind: "data",
          title: "audit log",
          data: { entries },
          lines: entries.length === 0 ? ["no audit entries"] : entries.map(auditLine),
        },
      };
    },
  };
}
