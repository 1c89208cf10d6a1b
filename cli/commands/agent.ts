/**
 * `commodore agent`: runs the fleet agent until SIGINT/SIGTERM; SIGHUP re-reads the
 * allowed_signers file and the host certificate.
 */
import type { AgentFileConfig } from "../../config/agent.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import {
  createAgent,
  DEFAULT_ALLOWED_SIGNERS,
  DEFAULT_HOST_KEY,
  DEFAULT_REDIS_URL,
} from "../../executors/fleet/agent-entry.ts";
import type { CliCommand, CliIo } from "../command.ts";
import { parseFlags } from "../command.ts";
import { processLogger } from "../logger.ts";
import type { MetricsServer } from "../metrics-server.ts";
import { SYSTEM_CONFIG, configPath } from "../paths.ts";
import { parseAssignments, parsePositiveInt } from "./agent-flags.ts";

const NAME = "agent";

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(NAME, argv, {
    redis: { type: "string" },
    "host-key": { type: "string" },
    "host-cert": { type: "string" },
    "allowed-signers": { type: "string" },
    fact: { type: "string", multiple: true },
    hostname: { type: "string" },
    concurrency: { type: "string" },
    prefix: { type: "string" },
    config: { type: "string" },
    "metrics-listen": { type: "string" },
    verbose: { type: "boolean" },
  });
  const listen = values["metrics-listen"];
  // The HTTP server (and node:http) load only when the metrics endpoint is asked for.
  const endpoint =
    listen === undefined
      ? undefined
      : await import("../metrics-server.ts").then((m) => ({
          start: m.startMetricsServer,
          at: m.parseMetricsListen(NAME, listen),
        }));
  const file = configPath(values.config, io.env);
  // The YAML loader is imported only when there is a file: an agent run by flags never loads it.
  // It reads the agent's sections only (config/agent.ts), none of the bot's schemas.
  const fromFile =
    file === undefined
      ? undefined
      : (await import("../../config/agent.ts")).loadAgentConfig({ file, env: io.env });
  const section: Partial<NonNullable<AgentFileConfig["agent"]>> = fromFile?.agent ?? {};
  const { local: _local, hostKeyPath, hostCertPath, allowedSignersPath, ...fileAgent } = section;
  // --verbose wins; else the file's log.level (LOG_LEVEL overrides it), else info.
  const logger = processLogger(values.verbose ? "debug" : (fromFile?.log.level ?? "info"), io);
  const concurrency = parsePositiveInt(NAME, "--concurrency", values.concurrency);
  // Runtime metrics only where someone scrapes them: they cost memory and a sampling timer.
  const metrics =
    endpoint === undefined
      ? new MetricsRegistry()
      : await new MetricsRegistry().withRuntimeMetrics();
  const agent = createAgent({
    ...fileAgent,
    ...(fromFile ? { prefix: fromFile.redis.prefix } : {}),
    redisUrl: values.redis ?? fromFile?.redis.url ?? io.env["REDIS_URL"] ?? DEFAULT_REDIS_URL,
    hostKeyPath: values["host-key"] ?? hostKeyPath ?? DEFAULT_HOST_KEY,
    ...((values["host-cert"] ?? hostCertPath) === undefined
      ? {}
      : { hostCertPath: values["host-cert"] ?? hostCertPath }),
    allowedSignersPath: values["allowed-signers"] ?? allowedSignersPath ?? DEFAULT_ALLOWED_SIGNERS,
    facts: { ...fileAgent.facts, ...parseAssignments(NAME, "--fact", values.fact ?? []) },
    logger,
    metrics,
    ...(values.hostname ? { hostname: values.hostname } : {}),
    ...(concurrency ? { concurrency } : {}),
    ...(values.prefix ? { prefix: values.prefix } : {}),
  });
  // The reload never rejects: a bad file is logged and the previous list kept.
  const reload = () => void agent.reloadAllowedSigners();
  process.on("SIGHUP", reload);
  let server: MetricsServer | undefined;
  try {
    await agent.start();
    if (endpoint !== undefined) {
      server = await endpoint.start(metrics, endpoint.at);
      logger.info("agent metrics served", { url: `http://${server.address}/metrics` });
    }
    io.stdout(`agent ${agent.hostname} serving (host key ${agent.fingerprint})\n`);
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      io.signal.addEventListener("abort", () => resolve(), { once: true });
    });
  } finally {
    process.off("SIGHUP", reload);
    await server?.close();
    await agent.stop();
  }
  return 0;
}

/** The `agent` subcommand. */
export const command: CliCommand = {
  name: NAME,
  usage: `Usage: commodore agent [options]

Subscribes to fleet requests, obeys only controllers listed in allowed_signers, and signs
replies with this host's SSH key. A controller answers only once it accepted that key
(\`nodes accept\`, or automatically for a host certificate from a CA it trusts). Runs until
SIGINT/SIGTERM; SIGHUP reloads allowed_signers and the host certificate.

Options:
  --redis URL              Redis URL (default $REDIS_URL or ${DEFAULT_REDIS_URL})
  --host-key PATH          private key that signs replies (default ${DEFAULT_HOST_KEY})
  --host-cert PATH         OpenSSH host certificate of that key, published for auto-enrollment
                           (default <host-key>-cert.pub when it exists)
  --allowed-signers PATH   controllers allowed to send requests (default ${DEFAULT_ALLOWED_SIGNERS})
  --fact key=value         static fact such as role=web, repeatable
  --hostname NAME          name to answer as (default: the machine's hostname)
  --concurrency N          providers running at once (default 4)
  --prefix NAME            Redis key/channel prefix (default commodore)
  --config FILE            read the agent section (actions, authorization, facts, limits) and
                           redis url/prefix from a Commodore YAML file; flags win (default
                           $COMMODORE_CONFIG, $CONFIGURATION_DIRECTORY/commodore.yaml, or
                           ${SYSTEM_CONFIG} when it exists)
  --metrics-listen ADDR    serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9464):
                           rejections by reason, requests served, provider durations, and
                           process/Node.js runtime metrics
  --verbose                debug logging`,
  run,
};
