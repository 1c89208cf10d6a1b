/**
 * `commodore redis-acl`: prints the Redis ACL file (for redis.conf's `aclfile`) that gives the
 * bot and the agents separate, least-privilege users and switches `default` off; with
 * --password-dir it generates the passwords (kept when present) and writes their hashes into
 * the file. See app/redis-acl.ts and docs/scaling.md, "Redis credentials".
 */
import { DEFAULT_PREFIX } from "../../executors/fleet/index.ts";
import { DEFAULT_REDIS_PREFIX } from "../../executors/provision/index.ts";
import {
  ACL_KEY_PREFIX,
  ACL_PREFIX,
  ACL_USERS,
  PLACEHOLDER_SHA256,
  ensurePasswordFile,
  passwordSha256,
  redisAcl,
  type AclRole,
} from "../../app/redis-acl.ts";
import type { CliCommand, CliIo } from "../command.ts";
import { parseFlags } from "../command.ts";
import { InvalidArgumentError } from "../errors.ts";

const NAME = "redis-acl";

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(NAME, argv, {
    prefix: { type: "string" },
    "provision-prefix": { type: "string" },
    "password-dir": { type: "string" },
    replicas: { type: "boolean" },
    sentinel: { type: "boolean" },
  });
  if (positionals.length > 0)
    throw new InvalidArgumentError(NAME, "arguments", "none", positionals.join(" "));
  const prefix = values.prefix ?? DEFAULT_PREFIX;
  if (!ACL_PREFIX.test(prefix))
    throw new InvalidArgumentError(
      NAME,
      "--prefix",
      "the bot's redis.prefix (letters, digits, _ . -)",
      prefix,
    );
  const provisionPrefix = values["provision-prefix"] ?? DEFAULT_REDIS_PREFIX;
  if (!ACL_KEY_PREFIX.test(provisionPrefix))
    throw new InvalidArgumentError(
      NAME,
      "--provision-prefix",
      "the bot's provision.redisPrefix (letters, digits, _ . : { } -)",
      provisionPrefix,
    );
  const dir = values["password-dir"];
  if (dir === undefined)
    io.stderr("placeholder password hashes: pass --password-dir DIR to generate passwords\n");
  const hashOf = (role: AclRole): string => {
    if (dir === undefined) return PLACEHOLDER_SHA256[role];
    const file = ensurePasswordFile(dir, role, "choose a writable --password-dir");
    io.stderr(
      `${ACL_USERS[role]}: password in ${file.path} (${file.created ? "generated" : "kept"})\n`,
    );
    return passwordSha256(file.password);
  };
  const hashes = {
    bot: hashOf("bot"),
    agent: hashOf("agent"),
    ...(values.replicas === true ? { replica: hashOf("replica") } : {}),
    ...(values.sentinel === true ? { sentinel: hashOf("sentinel") } : {}),
  };
  io.stdout(redisAcl({ prefix, provisionPrefix, passwordSha256: hashes }));
  return 0;
}

/** The `redis-acl` subcommand. */
export const command: CliCommand = {
  name: NAME,
  usage: `Usage: commodore redis-acl [--password-dir DIR] [--prefix PREFIX]
                          [--provision-prefix PREFIX] [--replicas] [--sentinel]

Prints a Redis ACL file (redis.conf: aclfile /etc/redis/users.acl) with the users
${ACL_USERS.bot} (the bot and its controller: keys and channels under the prefix, no
administrative commands) and ${ACL_USERS.agent} (agents: the request channel, reply channels
and their own registry entries, nothing else), and the default user switched off.

  --password-dir DIR        read the passwords from DIR/bot.password and DIR/agent.password,
                            generating each (mode 0600) when missing; without it the file
                            carries placeholder hashes nobody can log in with
  --prefix PREFIX           the bot's redis.prefix (default: ${DEFAULT_PREFIX})
  --provision-prefix PREFIX the bot's provision.redisPrefix (default: ${DEFAULT_REDIS_PREFIX})
  --replicas                add ${ACL_USERS.replica} (replicas' masteruser; DIR/replica.password)
  --sentinel                add ${ACL_USERS.sentinel} (Sentinels' auth-user; DIR/sentinel.password)

Example:  commodore redis-acl --password-dir /etc/commodore/redis > /etc/redis/users.acl
Agents then connect as redis://${ACL_USERS.agent}:<agent.password>@host:6379. Passwords never
appear in the output, only their SHA-256. See docs/scaling.md, "Redis credentials".`,
  run,
};
