/**
 * `exec <name> [args…]`: runs one of the commands named in the agent's configuration. Each is
 * a fixed argv; an element `{slot}` takes the next request argument, which must pass the
 * generic argument checks and match the slot's anchored pattern. Never a shell.
 */
import type { ActionProvidersConfig, ExecOptions } from "./action-options.ts";
import { SLOT_PLACEHOLDER } from "./action-options.ts";
import { checkArgument, processOutput } from "./action-common.ts";
import { runProcess } from "./process.ts";
import { ProviderArgsError, type Provider } from "./provider.ts";

const USAGE = "exec <name> [args…]";
/** Time on top of the longest command timeout before the runner gives up on the provider. */
const MARGIN_MS = 1_000;

type ExecCommand = ExecOptions["commands"][string];

/** Slot names in the order their placeholders first appear in argv. */
export function slotOrder(argv: readonly string[]): string[] {
  const names = argv.flatMap((a) => SLOT_PLACEHOLDER.exec(a)?.[1] ?? []);
  return [...new Set(names)];
}

function usageOf(name: string, cmd: ExecCommand): string {
  return `exec ${name}${slotOrder(cmd.argv)
    .map((s) => ` <${s}>`)
    .join("")}`;
}

/** The final argv for `values` (already checked), one per slot in {@link slotOrder}. */
export function buildArgv(cmd: ExecCommand, values: readonly string[]): [string, ...string[]] {
  const bySlot = new Map(slotOrder(cmd.argv).map((s, i) => [s, values[i] ?? ""]));
  const argv = cmd.argv.map((a) => {
    const slot = SLOT_PLACEHOLDER.exec(a)?.[1];
    return slot === undefined ? a : (bySlot.get(slot) ?? "");
  });
  return argv as [string, ...string[]];
}

/** Builds the provider over the configured commands. */
export function execProvider(
  opts: ExecOptions,
  common: Pick<ActionProvidersConfig, "maxOutputBytes" | "killGraceMs">,
): Provider {
  const patterns = new Map(
    Object.entries(opts.commands).map(([name, cmd]) => [
      name,
      new Map(Object.entries(cmd.slots).map(([s, p]) => [s, new RegExp(`^(?:${p})$`, "u")])),
    ]),
  );
  const longest = Math.max(0, ...Object.values(opts.commands).map((c) => c.timeoutMs));
  return {
    name: "exec",
    timeoutMs: longest + common.killGraceMs + MARGIN_MS,
    async run(args, ctx) {
      const [name, ...values] = args;
      const known = Object.keys(opts.commands).sort().join(", ") || "none configured";
      if (name === undefined)
        throw new ProviderArgsError("exec", `needs a command name (known: ${known})`, USAGE);
      const cmd = Object.hasOwn(opts.commands, name) ? opts.commands[name] : undefined;
      if (cmd === undefined)
        throw new ProviderArgsError(
          "exec",
          `unknown command ${JSON.stringify(name.slice(0, 64))} (known: ${known})`,
          USAGE,
        );
      const usage = usageOf(name, cmd);
      const slots = slotOrder(cmd.argv);
      if (values.length !== slots.length)
        throw new ProviderArgsError(
          "exec",
          `${name} takes ${slots.length} arguments, got ${values.length}`,
          usage,
        );
      slots.forEach((slot, i) => {
        const value = values[i] ?? "";
        checkArgument("exec", slot, value, usage);
        if (!patterns.get(name)?.get(slot)?.test(value))
          throw new ProviderArgsError(
            "exec",
            `${slot} ${JSON.stringify(value.slice(0, 64))} does not match /${cmd.slots[slot] ?? ""}/`,
            usage,
          );
      });
      const run = await runProcess({
        argv: buildArgv(cmd, values),
        timeoutMs: cmd.timeoutMs,
        signal: ctx.signal,
        maxOutputBytes: common.maxOutputBytes,
        killGraceMs: common.killGraceMs,
        env: cmd.env,
      });
      return processOutput(`exec ${name}`, run, { command: name });
    },
  };
}
