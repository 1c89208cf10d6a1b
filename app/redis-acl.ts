/**
 * Role-separated Redis credentials. Redis is a bus, not a trust anchor: every message on it is
 * signed, and an agent host should be able to do on Redis exactly what an agent does and no
 * more. This module writes a Redis ACL file (the `users.acl` read through `aclfile`) with:
 *
 * - `commodore-bot`: the bot and its fleet controller. Every key and channel under the prefix,
 *   every command except the `@dangerous` ones (administration, `KEYS`, `CLIENT KILL`, …), the
 *   server-wide `FUNCTION` library and `SCRIPT` cache; `INFO` is given back for ioredis's ready
 *   check.
 * - `commodore-agent`: an agent host. No key at all: it publishes its signed registration on
 *   `prefix:registrations` (controllers check it and store the registry, so no agent can delete,
 *   overwrite or fill another host's entry) and its replies on `prefix:reply:{*}`, and
 *   subscribes to `prefix:requests` — through a selector, so it can neither publish requests
 *   nor listen to other hosts' replies or registrations — plus the connection housekeeping
 *   ioredis sends in every topology. No registry, pins, jobs, confirmations, audit,
 *   provisioning or leases.
 * - `default` switched off, with no password and no permissions, so a connection without
 *   credentials can do nothing.
 * - optionally `commodore-replica` (replicas' `masteruser`) and `commodore-sentinel` (the
 *   Sentinels' `auth-user` on the data nodes), which a data node with `default` off needs for
 *   replication and failover.
 *
 * Passwords appear only as `#<sha256>`; they live in `<role>.password` files (mode 0600),
 * generated once and kept. See docs/scaling.md, "Redis credentials".
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_PREFIX, fleetNames } from "../executors/fleet/index.ts";
import { DEFAULT_REDIS_PREFIX } from "../executors/provision/index.ts";
import { readBoundedFile } from "../lib/bounded-file.ts";
import { OptionsError } from "../lib/errors.ts";

/** ACL user of the bot and its fleet controller. */
export const BOT_USER = "commodore-bot";
/** ACL user of agents. */
export const AGENT_USER = "commodore-agent";
/** ACL user replicas authenticate to their primary with (`masteruser`). */
export const REPLICA_USER = "commodore-replica";
/** ACL user Sentinels authenticate to the data nodes with (`sentinel auth-user`). */
export const SENTINEL_USER = "commodore-sentinel";

/** The users a password is kept for, by role. */
export const ACL_USERS = {
  bot: BOT_USER,
  agent: AGENT_USER,
  replica: REPLICA_USER,
  sentinel: SENTINEL_USER,
} as const;
/** One role of {@link ACL_USERS}; its password lives in `<role>.password`. */
export type AclRole = keyof typeof ACL_USERS;

/** A key prefix that can be written into an ACL pattern (the same rule as `redis.prefix`). */
export const ACL_PREFIX = /^[A-Za-z0-9_.-]{1,64}$/;
/** A provisioning prefix that can be written into an ACL pattern (no glob characters, no spaces). */
export const ACL_KEY_PREFIX = /^[A-Za-z0-9_.:{}-]{1,128}$/;
/** A SHA-256 digest in hex, as `#<hash>` takes it. */
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Bytes of a generated password (256 bits, like `ACL GENPASS`), written as hex. */
const PASSWORD_BYTES = 32;
/** Mode of a password file. */
export const PASSWORD_FILE_MODE = 0o600;
const PASSWORD_DIR_MODE = 0o700;

/**
 * Stand-in hashes for an ACL file without passwords (`commodore redis-acl` without
 * --password-dir, config/redis-users.acl.example): valid SHA-256 hex that no known password
 * hashes to, so the file loads but nobody can log in until they are replaced.
 */
export const PLACEHOLDER_SHA256: Readonly<Record<AclRole, string>> = {
  bot: "0".repeat(64),
  agent: "1".repeat(64),
  replica: "2".repeat(64),
  sentinel: "3".repeat(64),
};

/** Every rule list starts from nothing. */
const RESET = ["resetkeys", "resetchannels", "-@all"];

/**
 * What ioredis sends on every agent connection besides the agent's own commands:
 * `CLIENT SETNAME` (connection names in `CLIENT LIST`), `INFO` (ready check; behind Sentinel
 * also the check that the server is the primary), `SELECT` (a `/db` in the URL), and for a
 * Redis Cluster `CLUSTER SLOTS` (slot map), `CLUSTER INFO` (the cluster's ready check),
 * `READONLY`/`READWRITE` (connections to replicas) and `ASKING` (redirections while slots
 * move). AUTH, HELLO and QUIT need no rule: Redis allows them to every user.
 */
const AGENT_HOUSEKEEPING = [
  "+client|setname",
  "+info",
  "+select",
  "+cluster|slots",
  "+cluster|info",
  "+readonly",
  "+readwrite",
  "+asking",
];

/** `PSYNC`, `REPLCONF`, `PING`: what a replica sends its primary (Redis's ACL documentation). */
const REPLICA_RULES = [...RESET, "+psync", "+replconf", "+ping"];
/**
 * What a Sentinel sends the data nodes it watches (Redis's ACL documentation): health checks,
 * its hello channel, and the reconfiguration of a failover.
 */
const SENTINEL_RULES = [
  ...RESET,
  "&__sentinel__:hello",
  "+ping",
  "+info",
  "+role",
  "+subscribe",
  "+publish",
  "+client|setname",
  "+client|kill",
  "+multi",
  "+exec",
  "+slaveof",
  "+config|rewrite",
  "+script|kill",
];

/** Inputs of {@link redisAcl}. */
export interface RedisAclOptions {
  /** Fleet and bot key prefix (`redis.prefix`); default `commodore`. */
  readonly prefix?: string;
  /** `provision.redisPrefix`; default `{commodore:provision}:`. */
  readonly provisionPrefix?: string;
  /**
   * SHA-256 (hex) of each user's password. `bot` and `agent` are required; `replica` and
   * `sentinel` add those users.
   */
  readonly passwordSha256: Readonly<Record<"bot" | "agent", string>> &
    Readonly<Partial<Record<"replica" | "sentinel", string>>>;
}

/** The SHA-256 of `password` in hex, as written after `#` in an ACL file. */
export function passwordSha256(password: string): string {
  return createHash("sha256").update(password, "utf8").digest("hex");
}

function checkPrefix(prefix: string): void {
  if (!ACL_PREFIX.test(prefix))
    throw new OptionsError(
      `the Redis ACL cannot be written for prefix ${JSON.stringify(prefix)}`,
      "use a redis.prefix (--prefix) of letters, digits, _ . - only",
    );
}

/**
 * The bot's rules: every key of the fleet registry, jobs, audit, confirmations, leases and
 * (when it lives elsewhere) provisioning; every channel under the prefix; every command but
 * `@dangerous`, `FUNCTION` and `SCRIPT` (server-wide state no key pattern confines), with
 * `INFO` given back for ioredis's ready check.
 */
export function botRules(
  prefix: string = DEFAULT_PREFIX,
  provisionPrefix: string = DEFAULT_REDIS_PREFIX,
): string[] {
  checkPrefix(prefix);
  if (!ACL_KEY_PREFIX.test(provisionPrefix))
    throw new OptionsError(
      `the Redis ACL cannot be written for provisioning prefix ${JSON.stringify(provisionPrefix)}`,
      "use a provision.redisPrefix (--provision-prefix) of letters, digits, _ . : { } - only",
    );
  const owned = [`${prefix}:`, `{${prefix}}:`, `{${prefix}:`];
  const keys = owned.map((p) => `~${p}*`);
  if (!owned.some((p) => provisionPrefix.startsWith(p))) keys.push(`~${provisionPrefix}*`);
  return [
    ...RESET,
    ...keys,
    `&${prefix}:*`,
    "+@all",
    "-@dangerous",
    "-function",
    "-script",
    "+info",
  ];
}

/**
 * The agent's rules: no keys; `PUBLISH`/`SPUBLISH` on reply channels and the registrations
 * channel, and a selector allowing `SUBSCRIBE`/`SSUBSCRIBE` on the request channel only. Redis
 * grants channel patterns to every pub/sub command of a selector alike, so the selector is what
 * keeps an agent from publishing requests or subscribing to replies and registrations.
 */
export function agentRules(prefix: string = DEFAULT_PREFIX): string[] {
  checkPrefix(prefix);
  const names = fleetNames(prefix);
  return [
    ...RESET,
    `&${names.reply("*")}`,
    `&${names.registrations}`,
    ...AGENT_HOUSEKEEPING,
    "+publish",
    "+spublish",
    "+unsubscribe",
    "+sunsubscribe",
    `(resetkeys resetchannels &${names.requests} -@all +subscribe +ssubscribe)`,
  ];
}

function userLine(user: string, sha256: string, rules: readonly string[]): string {
  if (!SHA256_HEX.test(sha256))
    throw new OptionsError(
      `the password hash of ${user} is not a SHA-256 in hex`,
      "pass the 64-character output of sha256sum for the password",
    );
  return ["user", user, "on", `#${sha256}`, ...rules].join(" ");
}

/** The ACL file: one `user` line each, `default` first and switched off. */
export function redisAcl(options: RedisAclOptions): string {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const hashes = options.passwordSha256;
  const lines = [
    `user default off resetpass ${RESET.join(" ")}`,
    userLine(BOT_USER, hashes.bot, botRules(prefix, options.provisionPrefix)),
    userLine(AGENT_USER, hashes.agent, agentRules(prefix)),
  ];
  if (hashes.replica !== undefined)
    lines.push(userLine(REPLICA_USER, hashes.replica, REPLICA_RULES));
  if (hashes.sentinel !== undefined)
    lines.push(userLine(SENTINEL_USER, hashes.sentinel, SENTINEL_RULES));
  return `${lines.join("\n")}\n`;
}

/** Largest password file read (a generated one holds 65 bytes). */
export const MAX_PASSWORD_FILE_BYTES = 4 * 1024;

/**
 * The password in `path`: its one line, trimmed. A file that is not a regular file, larger
 * than {@link MAX_PASSWORD_FILE_BYTES} or of more than one line is refused, naming the line.
 */
function readPasswordFile(path: string, hint: string): string {
  const fail = (message: string, line?: number) =>
    new OptionsError(
      line === undefined ? `cannot read ${path}: ${message}` : `${path}:${line}: ${message}`,
      line === undefined ? hint : "a password file holds the password alone, on one line",
    );
  const text = readBoundedFile(path, MAX_PASSWORD_FILE_BYTES, fail).data.toString("utf8");
  const password = text.trim();
  const secondLine = password.indexOf("\n");
  if (secondLine !== -1) {
    const before = text.length - text.trimStart().length + secondLine;
    throw fail("more than one line", text.slice(0, before).split("\n").length + 1);
  }
  return password;
}

/** A password file, read or freshly generated. */
export interface PasswordFile {
  readonly path: string;
  readonly password: string;
  /** True when this call generated it. */
  readonly created: boolean;
}

/**
 * Reads the password in `<dir>/<role>.password`, first generating one (256 random bits in
 * hex, mode 0600) when the file does not exist; an existing file is kept as it is. `hint`
 * names the option that chooses `dir`, for errors.
 */
export function ensurePasswordFile(dir: string, role: AclRole, hint: string): PasswordFile {
  const path = join(dir, `${role}.password`);
  let created = false;
  try {
    mkdirSync(dir, { recursive: true, mode: PASSWORD_DIR_MODE });
    writeFileSync(path, `${randomBytes(PASSWORD_BYTES).toString("hex")}\n`, {
      mode: PASSWORD_FILE_MODE,
      flag: "wx",
    });
    created = true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EEXIST")
      throw new OptionsError(`cannot write ${path}: ${code ?? "unknown error"}`, hint);
  }
  const password = readPasswordFile(path, hint);
  if (password === "")
    throw new OptionsError(
      `${path} is empty`,
      "write the password into it, or delete it to have one generated",
    );
  return { path, password, created };
}
