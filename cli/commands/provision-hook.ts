/**
 * `commodore provision-hook <ip>`: the command knockd runs (`Start_Command = commodore
 * provision-hook %IP%`). It records the knock in Redis and exits at once; the bot later runs
 * the playbook only against a registered host whose pinned key matches.
 *
 * A bare knock carries only the address, which the bot never trusts for more than "this
 * address wants provisioning". Naming a playbook (`--playbook`) is a decision the bot acts
 * on, so it needs `--key` (the controller's private key): the knock is then sealed the way the
 * bot seals its own Redis state (lib/seal.ts), and the bot drops unsealed knocks that name one.
 */
import { Redis } from "ioredis";
import { KeyError, loadPrivateKey } from "../../executors/fleet/index.ts";
import { redactUrlCredentials, silentLogger } from "../../lib/log.ts";
import { closeRedis, waitReady } from "../../lib/redis.ts";
import type { RedisClient } from "../../lib/redis/client.ts";
import { StateSealer } from "../../lib/seal.ts";
import { connectUrl, parseTopologyUrl } from "../../lib/redis/url.ts";
import {
  pushKnock,
  normalizeAddress,
  DEFAULT_REDIS_PREFIX,
  HASH_TAGGED_PREFIX,
  checkPlaybookName,
} from "../../executors/provision/index.ts";
import type { CliCommand } from "../command.ts";
import { parseFlags } from "../command.ts";
import {
  CliError,
  EXIT_CONFIG,
  EXIT_UNAVAILABLE,
  EXIT_USAGE,
  InvalidArgumentError,
  MissingArgumentError,
} from "../errors.ts";

const NAME = "provision-hook";
const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";
/** knockd waits for nothing, but a stuck hook should still give up quickly. */
const REDIS_TIMEOUT_MS = 3_000;

/**
 * A client for `url` in any topology (`redis://`, `sentinel://`, `cluster://`). A single server
 * gets one attempt and no reconnect loop: knockd wants an answer now, not a retrying daemon;
 * Sentinel and Cluster clients must discover their nodes, so they get {@link REDIS_TIMEOUT_MS}.
 */
function openClient(url: string): { redis: RedisClient; connect(): Promise<void> } {
  const name = "commodore-provision-hook";
  if (parseTopologyUrl(url).topology.mode !== "single") {
    const redis = connectUrl({ url, name, logger: silentLogger });
    return { redis, connect: () => waitReady(redis, url, REDIS_TIMEOUT_MS) };
  }
  const redis = new Redis(url, {
    lazyConnect: true,
    connectionName: name,
    connectTimeout: REDIS_TIMEOUT_MS,
    commandTimeout: REDIS_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  return { redis, connect: () => redis.connect() };
}

/** The sealer of the controller key at `path`; the key itself is never printed. */
function sealerFor(path: string): StateSealer {
  try {
    return StateSealer.fromPrivateKey(loadPrivateKey(path).key);
  } catch (err) {
    if (err instanceof KeyError)
      throw new CliError("E_CLI_KEY", err.message, EXIT_CONFIG, err.hint);
    throw err;
  }
}

/** The `provision-hook` subcommand. */
export const command: CliCommand = {
  name: NAME,
  usage: `Usage: commodore provision-hook <ip> [--redis URL] [--playbook NAME --key PATH] [--prefix PREFIX]

Records "this address wants provisioning" in Redis and returns at once. The bot runs the
playbook only if a registered host has this address and presents its pinned host key.

  --redis URL        Redis URL (default: $REDIS_URL or ${DEFAULT_REDIS_URL});
                     sentinel://host:port,…/name and cluster://host:port,… work too
  --playbook NAME    playbook name from the bot's playbookDir (default: from the host's facts);
                     needs --key
  --key PATH         the controller's private key (controller.keyPath, or
                     keys/controller_ed25519 in the bot's state directory): seals the knock,
                     so the bot trusts the playbook it names
  --prefix PREFIX    Redis key prefix (default: ${DEFAULT_REDIS_PREFIX})

knockd.conf:  Start_Command = /usr/bin/commodore provision-hook %IP%`,
  async run(argv, io) {
    const { values, positionals } = parseFlags(NAME, argv, {
      redis: { type: "string" },
      playbook: { type: "string" },
      key: { type: "string" },
      prefix: { type: "string" },
    });
    const [rawIp, extra] = positionals;
    if (rawIp === undefined) throw new MissingArgumentError(NAME, "<ip>");
    if (extra !== undefined) {
      throw new InvalidArgumentError(NAME, "arguments", "a single <ip>", positionals.join(" "));
    }
    const ip = normalizeAddress(rawIp);
    if (ip === undefined)
      throw new InvalidArgumentError(NAME, "<ip>", "an IPv4 or IPv6 address", rawIp);
    if (values.playbook !== undefined) {
      try {
        checkPlaybookName(values.playbook);
      } catch {
        throw new InvalidArgumentError(
          NAME,
          "--playbook",
          "a playbook name (letters, digits, _ . -)",
          values.playbook,
        );
      }
    }
    if (values.playbook !== undefined && values.key === undefined) {
      throw new CliError(
        "E_CLI_MISSING_ARGUMENT",
        `--playbook for "${NAME}" needs --key: the bot acts on the playbook of a knock sealed with the controller key only`,
        EXIT_USAGE,
        "pass --key with the controller's private key, or leave --playbook out so the host's facts choose",
      );
    }
    const prefix = values.prefix ?? DEFAULT_REDIS_PREFIX;
    if (!HASH_TAGGED_PREFIX.test(prefix)) {
      throw new InvalidArgumentError(
        NAME,
        "--prefix",
        "the bot's provision.redisPrefix, with a hash tag such as {commodore:provision}:",
        prefix,
      );
    }
    const sealer = values.key === undefined ? undefined : sealerFor(values.key);
    const url = values.redis ?? io.env["REDIS_URL"] ?? DEFAULT_REDIS_URL;
    const { redis, connect } = openClient(url);
    let lastError: string | undefined;
    redis.on("error", (err: Error) => (lastError = err.message));
    try {
      await connect();
      await pushKnock(
        redis,
        prefix,
        {
          ip,
          ...(values.playbook !== undefined ? { playbook: values.playbook } : {}),
          at: new Date().toISOString(),
        },
        sealer,
      );
    } catch (err) {
      throw new CliError(
        "E_CLI_REDIS_UNAVAILABLE",
        `could not record the knock from ${ip} in Redis at ${redactUrlCredentials(url)}: ${lastError ?? (err instanceof Error ? err.message : String(err))}`,
        EXIT_UNAVAILABLE,
        "start redis-server or pass --redis / set REDIS_URL",
      );
    } finally {
      await closeRedis(redis);
    }
    io.stdout(`queued provisioning request for ${ip}\n`);
    return 0;
  },
};
