/** Every `commodore` subcommand, by name. Add a subcommand by adding its module here. */
import type { CliCommand } from "../command.ts";

/** Loaded lazily so `commodore --help` stays fast and one subcommand's deps don't load another's. */
export const COMMANDS: Record<string, () => Promise<CliCommand>> = {
  "provision-hook": async () => (await import("./provision-hook.ts")).command,
};
