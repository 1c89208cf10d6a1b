/**
 * `commodore start` (`npm start`): runs the bot. With no configuration it is self-contained:
 * a private redis-server, generated keys, one local agent and HTTP on 127.0.0.1:8080.
 */
import type { LogLevel } from "../../lib/log.ts";
import { CommodoreError } from "../../lib/errors.ts";
import { loadConfig } from "../../config/load.ts";
import { embeddedRawConfig } from "../../config/embedded.ts";
import { startServices } from "../../app/services.ts";
import { REDIS_MISSING } from "../../app/redis-server.ts";
import type { CliCommand, CliIo } from "../command.ts";
import { parseFlags } from "../command.ts";
import { processLogger } from "../logger.ts";
import { SYSTEM_CONFIG, configPath, stateDir as stateDirOf } from "../paths.ts";
import { EXIT_UNAVAILABLE, MissingArgumentError } from "../errors.ts";

const NAME = "start";
/** The curl line printed once HTTP is up. */
export function curlLine(httpUrl: string): string {
  return `curl -XPOST -H 'Content-Type: application/json' -d '{"args":["uptime"]}' ${httpUrl}/fleet`;
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(NAME, argv, { config: { type: "string" } });
  if (positionals.length > 0)
    throw new MissingArgumentError(NAME, "no positional arguments (use --config FILE)");
  const file = configPath(values.config, io.env);
  const config = loadConfig({
    ...(file === undefined ? { defaults: embeddedRawConfig() } : { file }),
    env: io.env,
  });
  const level: LogLevel = config.log.level;
  const logger = processLogger(level, io);
  const stateDir = stateDirOf(io.env);
  let services;
  try {
    services = await startServices({ config, stateDir, env: io.env, logger });
  } catch (err) {
    if (err instanceof CommodoreError && err.code === "E_REDIS_MISSING") {
      io.stderr(`${REDIS_MISSING}\n`);
      return EXIT_UNAVAILABLE;
    }
    throw err;
  }
  io.stdout(
    `commodore is running (state in ${stateDir}, Redis ${services.embeddedRedis ? "embedded" : "external"}). Try:\n`,
  );
  if (services.httpUrl !== undefined) io.stdout(`${curlLine(services.httpUrl)}\n`);
  const channels = config.irc?.channels.map((c) => c.name).join(", ");
  if (services.irc !== undefined)
    io.stdout(`or say "${services.irc.nick}: fleet ping" in ${channels || "a private message"}\n`);
  else if (config.irc !== undefined)
    io.stdout("IRC: another replica holds the IRC lease; this one takes over if it goes away\n");
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    io.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  io.stdout("stopping…\n");
  await services.stop();
  return 0;
}

/** The `start` subcommand. */
export const command: CliCommand = {
  name: NAME,
  usage: `Usage: commodore start [--config FILE]

Runs the bot and its HTTP transport (plus IRC and the voice webhook when the configuration
has irc: or voice: sections) until SIGINT/SIGTERM.

The configuration is --config FILE, else $COMMODORE_CONFIG, else commodore.yaml in
$CONFIGURATION_DIRECTORY (systemd), else ${SYSTEM_CONFIG} when it exists. Without one it
starts a private redis-server from PATH (unless REDIS_URL is set), generates keys in the state
directory, runs one local agent and listens on 127.0.0.1:8080; local callers without a token
may run read commands.

Environment:
  COMMODORE_CONFIG       configuration file (same as --config)
  COMMODORE_STATE_DIR    state directory: redis data, keys, audit.log (default
                         $STATE_DIRECTORY under systemd, else $XDG_STATE_HOME/commodore,
                         else ~/.local/state/commodore)
  REDIS_URL              use this Redis instead of the embedded one
  PORT, COMMODORE_HTTP_LISTEN   HTTP port / host:port
  LOG_LEVEL              debug, info, warn, error or silent`,
  run,
};
