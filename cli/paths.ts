/**
 * Where Commodore keeps things when nothing says otherwise, as operators expect of a service:
 *
 * - configuration: `--config`, else `$COMMODORE_CONFIG`, else `commodore.yaml` in systemd's
 *   `$CONFIGURATION_DIRECTORY`, else `/etc/commodore/commodore.yaml` when that file exists;
 *   otherwise none (the embedded default of `commodore start`);
 * - state (Redis data, keys, audit log): `$COMMODORE_STATE_DIR`, else systemd's
 *   `$STATE_DIRECTORY`, else `$XDG_STATE_HOME/commodore`, else `~/.local/state/commodore`;
 *   never the current directory.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { CliError, EXIT_CONFIG } from "./errors.ts";

/** The system-wide configuration file, used when it exists and nothing else is named. */
export const SYSTEM_CONFIG = "/etc/commodore/commodore.yaml";
/** The configuration file's name inside a configuration directory. */
export const CONFIG_FILE_NAME = "commodore.yaml";
/** The folder under `$XDG_STATE_HOME` (or `~/.local/state`). */
export const STATE_DIR_NAME = "commodore";

/** The configuration file to load, or undefined for none. */
export function configPath(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag !== undefined && flag !== "") return flag;
  const named = env["COMMODORE_CONFIG"];
  if (named !== undefined && named !== "") return named;
  const systemd = env["CONFIGURATION_DIRECTORY"];
  if (systemd !== undefined && systemd !== "") {
    const first = systemd.split(":")[0] ?? systemd;
    const candidate = join(first, CONFIG_FILE_NAME);
    if (existsSync(candidate)) return candidate;
  }
  return existsSync(SYSTEM_CONFIG) ? SYSTEM_CONFIG : undefined;
}

/** The state directory (created by whoever writes into it). */
export function stateDir(env: NodeJS.ProcessEnv): string {
  const named = env["COMMODORE_STATE_DIR"];
  if (named !== undefined && named !== "") return named;
  const systemd = env["STATE_DIRECTORY"];
  if (systemd !== undefined && systemd !== "") return systemd.split(":")[0] ?? systemd;
  const xdg = env["XDG_STATE_HOME"];
  if (xdg !== undefined && xdg.startsWith("/")) return join(xdg, STATE_DIR_NAME);
  const home = env["HOME"] ?? homedir();
  if (home === "" || !home.startsWith("/"))
    throw new CliError(
      "E_CLI_NO_STATE_DIR",
      "cannot choose a state directory: HOME is not an absolute path",
      EXIT_CONFIG,
      "set COMMODORE_STATE_DIR (or run under systemd with StateDirectory=)",
    );
  return join(home, ".local", "state", STATE_DIR_NAME);
}
