/**
 * Every `commodore` subcommand: its one-line summary and how to load it. Add a subcommand by
 * adding its module and an entry here. Modules load only when their command runs, so
 * `commodore --help` and `--version` load none of them.
 */
import type { CliCommand } from "../command.ts";

/** One subcommand as the dispatcher knows it before loading it. */
export interface CommandEntry {
  /** One line for `commodore help`. */
  readonly summary: string;
  load(): Promise<CliCommand>;
}

/** The subcommands by name. */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  agent: {
    summary: "run the fleet agent on this host",
    load: async () => (await import("./agent.ts")).command,
  },
  config: {
    summary: "check a configuration file",
    load: async () => (await import("./config.ts")).command,
  },
  fleet: {
    summary: "run a provider on the fleet (signed request over Redis)",
    load: async () => (await import("./fleet.ts")).command,
  },
  keygen: {
    summary: "create a fleet signing key and print its trust lines",
    load: async () => (await import("./keygen.ts")).command,
  },
  nodes: {
    summary: "list hosts and accept, reject or revoke their keys (enrollment)",
    load: async () => (await import("./nodes.ts")).command,
  },
  "provision-hook": {
    summary: "queue a provisioning request for an address (for knockd's %IP%)",
    load: async () => (await import("./provision-hook.ts")).command,
  },
  "redis-acl": {
    summary: "print a Redis ACL file with separate bot and agent users",
    load: async () => (await import("./redis-acl.ts")).command,
  },
  start: {
    summary: "run the bot (embedded Redis and a local agent when nothing is configured)",
    load: async () => (await import("./start.ts")).command,
  },
};
