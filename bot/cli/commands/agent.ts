/**
 * `commodore agent`: runs the fleet agent until SIGINT/SIGTERM; SIGHUP re-reads the
 * allowed_signers file.
 */
import { createLogger } from "../../../lib/log.ts";
import { createAgent } from "../../../executors/fleet/agent/agent.ts";
import {
  DEFAULT_ALLOWED_SIGNERS,
  DEFAULT_HOST_KEY,
  DEFAULT_REDIS_URL,
} from "../../../executors/fleet/options.ts";
import type { CliCommand, CliIo } from "../command.ts";
import { parseFlags } from "../command.ts";
import { parseAssignments, parsePositiveInt } from "./fleet.ts";

const NAME = "agent";

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(NAME, argv, {
    redis: { type: "string" },
    "host-key": { type: "string" },
    "allowed-signers": { type: "string" },
    fact: { type: "string", multiple: true },
    hostname: { type: "string" },
    concurrency: { type: "string" },
    prefix: { type: "string" },
    verbose: { type: "boolean" },
  });
  const logger = createLogger({
    level: values.verbose ? "debug" : "info",
    sink: (l) => io.stderr(`${l}\n`),
  });
  const concurrency = parsePositiveInt(NAME, "--concurrency", values.concurrency);
  const agent = createAgent({
    redisUrl: values.redis ?? io.env["REDIS_URL"] ?? DEFAULT_REDIS_URL,
    hostKeyPath: values["host-key"] ?? DEFAULT_HOST_KEY,
    allowedSignersPath: values["allowed-signers"] ?? DEFAULT_ALLOWED_SIGNERS,
    facts: parseAssignments(NAME, "--fact", values.fact ?? []),
    logger,
    ...(values.hostname ? { hostname: values.hostname } : {}),
    ...(concurrency ? { concurrency } : {}),
    ...(values.prefix ? { prefix: values.prefix } : {}),
  });
  const reload = () => agent.reloadAllowedSigners();
  process.on("SIGHUP", reload);
  try {
    await agent.start();
    io.stdout(`agent ${agent.hostname} serving (host key ${agent.fingerprint})\n`);
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      io.signal.addEventListener("abort", () => resolve(), { once: true });
    });
  } finally {
    process.off("SIGHUP", reload);
    await agent.stop();
  }
  return 0;
}

/** The `agent` subcommand. */
export const command: CliCommand = {
  name: NAME,
  summary: "run the fleet agent on this host",
  usage: `Usage: commodore agent [options]

Subscribes to fleet requests, obeys only controllers listed in allowed_signers, and signs
replies with this host's SSH key. Runs until SIGINT/SIGTERM; SIGHUP reloads allowed_signers.

Options:
  --redis URL              Redis URL (default $REDIS_URL or ${DEFAULT_REDIS_URL})
  --host-key PATH          private key that signs replies (default ${DEFAULT_HOST_KEY})
  --allowed-signers PATH   controllers allowed to send requests (default ${DEFAULT_ALLOWED_SIGNERS})
  --fact key=value         static fact such as role=web, repeatable
  --hostname NAME          name to answer as (default: the machine's hostname)
  --concurrency N          providers running at once (default 4)
  --prefix NAME            Redis key/channel prefix (default commodore)
  --verbose                debug logging`,
  run,
};
