/** `help [command]`: what the caller may run, or one command's usage and examples. */
import type { CommandRegistry } from "../registry.ts";
import type { Policy } from "../../permissions/policy.ts";
import type { CommandSpec, RunContext, RunOutcome } from "../types.ts";

function describe(spec: CommandSpec, allowed: boolean): string[] {
  const lines = [`usage: ${spec.usage}`, spec.summary];
  if (spec.aliases.length > 0) lines.push(`aliases: ${spec.aliases.join(", ")}`);
  for (const arg of spec.args) lines.push(`  ${arg.name}: ${arg.help}`);
  if (spec.takesWhere) lines.push("  where fact=glob …: only hosts whose facts match every term");
  for (const ex of spec.examples) lines.push(`example: ${ex}`);
  if (!allowed) lines.push("(you may not run this command)");
  return lines;
}

/** Creates the `help` command. */
export function helpCommand(registry: CommandRegistry, policy: Policy): CommandSpec {
  return {
    name: "help",
    aliases: [],
    summary: "list the commands you may run, or show how to use one",
    usage: "help [command]",
    examples: ["help", "help fleet"],
    args: [{ name: "command", kind: "word", required: false, help: "a command name" }],
    takesWhere: false,
    permission: "everyone",
    risk: () => "read",
    async run(ctx: RunContext): Promise<RunOutcome> {
      const principal = ctx.invocation.principal;
      const name = ctx.command.args["command"];
      if (typeof name === "string") {
        const spec = registry.resolve(name);
        return {
          ok: true,
          result: {
            kind: "text",
            title: spec.name,
            lines: describe(spec, policy.mayRun(principal, spec)),
          },
        };
      }
      const mine = registry.all().filter((s) => policy.mayRun(principal, s));
      const width = Math.max(...mine.map((s) => s.name.length));
      return {
        ok: true,
        result: {
          kind: "text",
          title: "commands you may run",
          lines: [
            ...mine.map((s) => `${s.name.padEnd(width)}  ${s.summary}`),
            "say `help <command>` for usage and examples",
          ],
        },
      };
    },
  };
}
