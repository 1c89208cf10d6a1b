/**
 * `commodore config check <file>`: validates a configuration file and prints every problem
 * with its path, what was expected and what was found.
 */
import { generateKeyPairSync } from "node:crypto";
import { loadConfig } from "../../config/load.ts";
import { referenceProblems } from "../../config/references.ts";
import { ConfigError } from "../../config/errors.ts";
import { OptionsError } from "../../lib/errors.ts";
import { silentLogger } from "../../lib/log.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import { StateSealer } from "../../lib/seal.ts";
import { Redis } from "ioredis";
import { createBot } from "../../bot/create.ts";
import { tokenPrincipals } from "../../transports/http/tokens.ts";
import type { CliCommand, CliIo } from "../command.ts";
import { parseFlags } from "../command.ts";
import { EXIT_CONFIG, InvalidArgumentError, MissingArgumentError } from "../errors.ts";

const NAME = "config";

/**
 * Validates what the schema cannot: the files and token variables the configuration refers to
 * (config/references.ts; files unless `files` is false), then grants against the real commands
 * by building the bot and the HTTP token resolver exactly as `start` does, over a Redis client
 * that never connects.
 */
function crossCheck(file: string, io: CliIo, files: boolean): string[] {
  const config = loadConfig({ file, env: io.env }, (c) => referenceProblems(c, io.env, { files }));
  const redis = new Redis({ lazyConnect: true });
  try {
    const bundle = createBot({
      config: {
        ...config,
        bot: { ...config.bot, audit: { streamMaxLen: config.bot.audit.streamMaxLen } },
      },
      redis,
      logger: silentLogger,
      metrics: new MetricsRegistry(),
      // Nothing is read or written: a throw-away key stands in for the controller's.
      sealer: StateSealer.fromPrivateKey(generateKeyPairSync("ed25519").privateKey),
    });
    tokenPrincipals(bundle.principals, io.env);
    return [];
  } catch (err) {
    if (err instanceof OptionsError) return [`${file}: ${err.describe()}`];
    throw err;
  } finally {
    redis.disconnect();
  }
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(NAME, argv, { "skip-files": { type: "boolean" } });
  const [action, file, ...extra] = positionals;
  if (action === undefined) throw new MissingArgumentError(NAME, "an action (check)");
  if (action !== "check") throw new InvalidArgumentError(NAME, "the action", "check", action);
  if (file === undefined) throw new MissingArgumentError(NAME, "the configuration file");
  if (extra.length > 0)
    throw new InvalidArgumentError(NAME, "the argument list", "one file", extra.join(" "));
  try {
    const problems = crossCheck(file, io, values["skip-files"] !== true);
    if (problems.length > 0) {
      io.stderr(problems.join("\n") + "\n");
      return EXIT_CONFIG;
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`${err.message}\n`);
      return EXIT_CONFIG;
    }
    throw err;
  }
  io.stdout(`${file}: configuration is valid\n`);
  return 0;
}

/** The `config` subcommand. */
export const command: CliCommand = {
  name: NAME,
  usage: `Usage: commodore config check [--skip-files] <file>

Validates the file (and the environment overrides REDIS_URL, PORT, COMMODORE_HTTP_LISTEN,
LOG_LEVEL) and prints every problem as "file:line: path: expected …, found …". It also checks
what the file refers to, as the user running the check (run it as the service's user): every
file commodore start reads (keys, which only their owner may access, allowed_signers,
known_hosts, certificates, the playbook directory and each playbook named) exists and is
readable, and every tokenEnv variable is set. Exit 0 when valid, 78 when not.

Options:
  --skip-files   do not check files (a file checked away from the host it runs on); the
                 token variables are still checked`,
  run,
};
