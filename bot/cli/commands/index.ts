/** Every `commodore` subcommand, by name. Add a subcommand by adding its module here. */
import type { CliCommand } from "../command.ts";

/** Loaded lazily so `commodore --help` stays fast and one subcommand's deps don't load another's. */
export const COMMANDS: Record<string, () => Promise<CliCommand>> = {
  agent: async () => (await import("./agent.ts")).command,
  config: async () => (await import("./config.ts")).command,
  fleet: async () => (await import("./fleet.ts")).command,
  keygen: async () => (await import("./keygen.ts")).command,
  nodes: async () => (await import("./nodes.ts")).command,
  "provision-hook": async () => (await import("./provision-hook.ts")).command,
  "redis-acl": async () => (await import("./redis-acl.ts")).command,
  start: async () => (await import("./start.ts")).command,
};
