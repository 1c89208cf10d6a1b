/**
 * Real redis-servers running Commodore's ACL (app/redis-acl.ts) for tests: fresh random
 * passwords, the generated users (replica and Sentinel users included) plus one test
 * administrator that sets servers up and reads `ACL LOG`, and helpers to log in as any of them.
 * `startAclSentinel` runs a primary, a replica and one Sentinel configured as
 * docs/scaling.md ("Redis credentials") tells operators to.
 */
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import {
  ACL_USERS,
  passwordSha256,
  redisAcl,
  REPLICA_USER,
  SENTINEL_USER,
  type AclRole,
} from "../../app/redis-acl.ts";
import { freePort, waitFor } from "./ports.ts";
import { dataNodeArgs, spawnRedis, type RedisProc } from "./redis-proc.ts";
import { startRedis, type TestRedis } from "./redis-server.ts";
import { tempDir } from "./tmp.ts";

/** The test's own administrator (not part of Commodore's ACL). */
export const ADMIN_USER = "test-admin";
/** The master name the Sentinel monitors. */
export const ACL_MASTER_NAME = "mymaster";
const PASSWORD_BYTES = 24;
const DOWN_AFTER_MS = 1_000;
const FAILOVER_TIMEOUT_MS = 5_000;
const SETTLE_TIMEOUT_MS = 20_000;
const POLL_MS = 100;
/**
 * What a Sentinel lets a client without login do: find the primary and the other Sentinels
 * (Redis's Sentinel documentation); agents' `sentinel://` URLs carry no Sentinel password.
 */
export const SENTINEL_CLIENT_RULES =
  "-@all +auth +client|getname +client|id +client|setname +command +hello +ping +role " +
  "+sentinel|get-master-addr-by-name +sentinel|master +sentinel|myid +sentinel|replicas " +
  "+sentinel|sentinels";

/** Passwords of one test deployment, by role. */
export type TestLogins = Readonly<Record<AclRole | "admin", string>>;

/** Fresh random passwords for every role. */
export function makeLogins(): TestLogins {
  const pw = () => randomBytes(PASSWORD_BYTES).toString("base64url");
  return { bot: pw(), agent: pw(), replica: pw(), sentinel: pw(), admin: pw() };
}

/** `user:password@` for a URL. */
export function userInfo(user: string, password: string): string {
  return `${user}:${encodeURIComponent(password)}@`;
}

/** Writes Commodore's ACL (every role) plus the test administrator into `dir`; returns the path. */
export function writeTestAcl(dir: string, logins: TestLogins): string {
  const path = join(dir, "users.acl");
  const acl = redisAcl({
    passwordSha256: {
      bot: passwordSha256(logins.bot),
      agent: passwordSha256(logins.agent),
      replica: passwordSha256(logins.replica),
      sentinel: passwordSha256(logins.sentinel),
    },
  });
  writeFileSync(path, `${acl}user ${ADMIN_USER} on #${passwordSha256(logins.admin)} ~* &* +@all\n`);
  return path;
}

/** Runs `fn` with a one-shot client logged in as `user`, always disconnecting it. */
export async function withLogin<T>(
  port: number,
  user: string,
  password: string,
  fn: (r: Redis) => Promise<T>,
): Promise<T> {
  const r = new Redis({
    port,
    host: "127.0.0.1",
    username: user,
    password,
    lazyConnect: true,
    retryStrategy: () => null,
  });
  r.on("error", () => undefined);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** One `ACL LOG` entry: a command, key or channel some user was refused. */
export interface AclDenial {
  readonly username: string;
  readonly reason: string;
  readonly object: string;
}

/** The server's `ACL LOG` (read as the test administrator). */
export async function aclDenials(port: number, logins: TestLogins): Promise<AclDenial[]> {
  const rows = await withLogin(
    port,
    ADMIN_USER,
    logins.admin,
    async (r) => (await r.call("ACL", "LOG")) as unknown[][],
  );
  return rows.map((row) => {
    const fields = new Map<string, string>();
    for (let i = 0; i + 1 < row.length; i += 2) fields.set(String(row[i]), String(row[i + 1]));
    return {
      username: fields.get("username") ?? "",
      reason: fields.get("reason") ?? "",
      object: fields.get("object") ?? "",
    };
  });
}

/** Empties the server's `ACL LOG`. */
export async function resetAclLog(port: number, logins: TestLogins): Promise<void> {
  await withLogin(port, ADMIN_USER, logins.admin, (r) => r.call("ACL", "LOG", "RESET"));
}

/** A single test redis-server running the ACL. */
export interface AclRedis {
  readonly redis: TestRedis;
  readonly logins: TestLogins;
  /** `redis://<role's user>:<password>@127.0.0.1:<port>`. */
  url(role: AclRole): string;
}

/** Starts one redis-server with the ACL. */
export async function startAclRedis(): Promise<AclRedis> {
  const logins = makeLogins();
  const redis = await startRedis(["--aclfile", writeTestAcl(tempDir("commodore-acl-"), logins)]);
  return {
    redis,
    logins,
    url: (role) => `redis://${userInfo(ACL_USERS[role], logins[role])}127.0.0.1:${redis.port}`,
  };
}

/** A primary, a replica and one Sentinel, all with authentication. */
export interface AclSentinel {
  readonly logins: TestLogins;
  readonly primaryPort: number;
  readonly replicaPort: number;
  /** `sentinel://<role's user>:<password>@127.0.0.1:<sentinel>/mymaster`. */
  url(role: AclRole): string;
  /** SIGKILLs the primary and waits until the Sentinel promoted the replica. */
  killPrimary(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the primary and the replica with the ACL (the replica logs in as commodore-replica),
 * then a Sentinel that watches them as commodore-sentinel and lets clients without login only
 * discover the primary ({@link SENTINEL_CLIENT_RULES}).
 */
export async function startAclSentinel(): Promise<AclSentinel> {
  const logins = makeLogins();
  const dir = tempDir("commodore-acl-sentinel-");
  const acl = writeTestAcl(dir, logins);
  const procs: RedisProc[] = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => p.kill()));
  };
  try {
    const primaryPort = await freePort();
    const replicaPort = await freePort();
    const sentinelPort = await freePort();
    const node = (port: number) => [
      ...dataNodeArgs(port, tempDir("commodore-acl-node-")),
      "--aclfile",
      acl,
    ];
    procs.push(await spawnRedis(primaryPort, node(primaryPort)));
    procs.push(
      await spawnRedis(replicaPort, [
        ...node(replicaPort),
        "--replicaof",
        "127.0.0.1",
        String(primaryPort),
        "--masteruser",
        REPLICA_USER,
        "--masterauth",
        logins.replica,
      ]),
    );
    const asAdmin = <T>(port: number, fn: (r: Redis) => Promise<T>) =>
      withLogin(port, ADMIN_USER, logins.admin, fn);
    await waitFor(
      "replica in sync",
      () =>
        asAdmin(replicaPort, async (r) =>
          (await r.info("replication")).includes("master_link_status:up"),
        ),
      SETTLE_TIMEOUT_MS,
      POLL_MS,
    );
    const conf = join(dir, "sentinel.conf");
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        "bind 127.0.0.1",
        `dir ${dir}`,
        `user default on nopass ${SENTINEL_CLIENT_RULES}`,
        `user ${ADMIN_USER} on #${passwordSha256(logins.admin)} ~* &* +@all`,
        `sentinel sentinel-user ${ADMIN_USER}`,
        `sentinel sentinel-pass ${logins.admin}`,
        `sentinel monitor ${ACL_MASTER_NAME} 127.0.0.1 ${primaryPort} 1`,
        `sentinel auth-user ${ACL_MASTER_NAME} ${SENTINEL_USER}`,
        `sentinel auth-pass ${ACL_MASTER_NAME} ${logins.sentinel}`,
        `sentinel down-after-milliseconds ${ACL_MASTER_NAME} ${DOWN_AFTER_MS}`,
        `sentinel failover-timeout ${ACL_MASTER_NAME} ${FAILOVER_TIMEOUT_MS}`,
        "",
      ].join("\n"),
    );
    procs.push(await spawnRedis(sentinelPort, [conf, "--sentinel"]));
    const seenBySentinel = async <T>(fn: (r: Redis) => Promise<T>) => {
      // No ready check: INFO is not among what the Sentinel allows clients without login.
      const r = new Redis({
        port: sentinelPort,
        host: "127.0.0.1",
        lazyConnect: true,
        enableReadyCheck: false,
        retryStrategy: () => null,
      });
      r.on("error", () => undefined);
      try {
        await r.connect();
        return await fn(r);
      } finally {
        r.disconnect();
      }
    };
    await waitFor(
      "the Sentinel knowing the replica",
      () =>
        seenBySentinel(
          async (r) =>
            ((await r.call("SENTINEL", "replicas", ACL_MASTER_NAME)) as unknown[]).length === 1,
        ),
      SETTLE_TIMEOUT_MS,
      POLL_MS,
    );
    const [primary] = procs;
    return {
      logins,
      primaryPort,
      replicaPort,
      url: (role) =>
        `sentinel://${userInfo(ACL_USERS[role], logins[role])}127.0.0.1:${sentinelPort}/${ACL_MASTER_NAME}`,
      async killPrimary() {
        await primary?.kill(true);
        await waitFor(
          "the Sentinel promoting the replica",
          async () => {
            const addr = await seenBySentinel(
              (r) =>
                r.call("SENTINEL", "get-master-addr-by-name", ACL_MASTER_NAME) as Promise<string[]>,
            );
            if (Number(addr[1]) !== replicaPort) return false;
            return asAdmin(
              replicaPort,
              async (r) => ((await r.role()) as unknown[])[0] === "master",
            );
          },
          SETTLE_TIMEOUT_MS,
          POLL_MS,
        );
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
