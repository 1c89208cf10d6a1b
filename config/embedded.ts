/**
 * The configuration `commodore start` uses when no file is given: loopback HTTP callers
 * without a token may run read commands (fleet ping/uptime/facts, nodes, jobs, job, help),
 * and one local agent runs in-process.
 */

/** Role granted to every caller in embedded mode. */
export const EMBEDDED_READER_ROLE = "local-reader";

/** Raw configuration (validated like a file) for the embedded default. */
export function embeddedRawConfig(): Record<string, unknown> {
  return {
    roles: {
      [EMBEDDED_READER_ROLE]: {
        grants: [
          { command: "fleet", args: { provider: ["ping", "uptime", "facts"] } },
          { command: "nodes" },
          { command: "jobs" },
          { command: "job" },
        ],
      },
    },
    bot: { defaultRoles: [EMBEDDED_READER_ROLE] },
    http: { anonymousFrom: ["127.0.0.1", "::1"] },
    agent: { local: true, facts: { role: "local" } },
  };
}
