/**
 * `service <unit> <status|start|stop|restart|reload>`: manages a unit through systemctl, or
 * service(8) where systemd is absent. The unit must be a plain unit name and match the agent's
 * allow-list; the program gets a fixed argv, never a shell string.
 */
import { existsSync } from "node:fs";
import { globMatch } from "../protocol/glob.ts";
import type { ActionProvidersConfig, ServiceOptions } from "./action-options.ts";
import { checkArgument, processOutput } from "./action-common.ts";
import { runProcess } from "./process.ts";
import { EXIT_NOPERM, ProviderArgsError, type Provider } from "./provider.ts";

/** Actions `service` accepts; `status` is read-only, the others change the host. */
export const SERVICE_ACTIONS = ["status", "start", "stop", "restart", "reload"] as const;
/** Characters a unit name may have. */
export const UNIT_NAME = /^[A-Za-z0-9@._:-]+$/;
/** Directory whose presence means systemd is the init system (sd_booted(3)). */
export const SYSTEMD_MARKER = "/run/systemd/system";
const USAGE = `service <unit> <${SERVICE_ACTIONS.join("|")}>`;
/** Time on top of the program's timeout before the runner gives up on the provider. */
const MARGIN_MS = 1_000;

/** The argv that performs `action` on `unit`. */
export function serviceArgv(
  opts: ServiceOptions,
  systemd: boolean,
  unit: string,
  action: string,
): [string, ...string[]] {
  if (systemd) return [opts.systemctlPath, "--no-pager", action, "--", unit];
  return [opts.servicePath, unit.replace(/\.service$/, ""), action];
}

/** Builds the provider; `systemdPresent` is injectable for tests of `manager: auto`. */
export function serviceProvider(
  opts: ServiceOptions,
  common: Pick<ActionProvidersConfig, "maxOutputBytes" | "killGraceMs">,
  systemdPresent: () => boolean = () => existsSync(SYSTEMD_MARKER),
): Provider {
  return {
    name: "service",
    timeoutMs: opts.timeoutMs + common.killGraceMs + MARGIN_MS,
    async run(args, ctx) {
      if (args.length !== 2)
        throw new ProviderArgsError("service", `takes 2 arguments, got ${args.length}`, USAGE);
      const [unit, action] = args as [string, string];
      if (!(SERVICE_ACTIONS as readonly string[]).includes(action))
        throw new ProviderArgsError("service", `unknown action ${JSON.stringify(action)}`, USAGE);
      checkArgument("service", "unit", unit, USAGE);
      if (!UNIT_NAME.test(unit))
        throw new ProviderArgsError(
          "service",
          `unit ${JSON.stringify(unit.slice(0, 64))} has characters outside A-Z a-z 0-9 @ . _ : -`,
          USAGE,
        );
      if (!opts.units.some((g) => globMatch(g, unit)))
        return {
          exit: EXIT_NOPERM,
          short: `service: unit ${unit} is not in this agent's allow-list`,
          unit,
          action,
        };
      const systemd = opts.manager === "systemd" || (opts.manager === "auto" && systemdPresent());
      const run = await runProcess({
        argv: serviceArgv(opts, systemd, unit, action),
        timeoutMs: opts.timeoutMs,
        signal: ctx.signal,
        maxOutputBytes: common.maxOutputBytes,
        killGraceMs: common.killGraceMs,
      });
      return processOutput(`${unit} ${action}`, run, {
        unit,
        action,
        manager: systemd ? "systemd" : "sysv",
      });
    },
  };
}
