/**
 * The embedded Redis: a private `redis-server` from PATH listening only on a unix socket in the
 * state directory (`<dataDir>/redis.sock`, mode 0700: no TCP port to race for or to reach from
 * another user), with its data there too. Used by `commodore start` when no Redis URL is
 * configured; its URLs are `unix://user:password@/…/redis.sock`.
 *
 * It runs with the role-separated ACL of app/redis-acl.ts: `default` is off, the bot connects
 * as `commodore-bot` and agents as `commodore-agent`, with passwords generated once into
 * `<dataDir>/credentials/{bot,agent}.password` (mode 0600) and kept across restarts. The ACL
 * file (`<dataDir>/users.acl`, hashes only) is written afresh on every start, so it follows
 * prefix changes.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, join, resolve as resolvePath } from "node:path";
import { Redis } from "ioredis";
import { CommodoreError } from "../lib/errors.ts";
import {
  AGENT_USER,
  BOT_USER,
  PASSWORD_FILE_MODE,
  ensurePasswordFile,
  passwordSha256,
  redisAcl,
} from "./redis-acl.ts";

/** How long the embedded server may take to answer PING. */
export const REDIS_START_TIMEOUT_MS = 10_000;
/** How long it may take to save and exit on shutdown before it is killed. */
export const REDIS_STOP_TIMEOUT_MS = 5_000;
const POLL_MS = 50;

/** The one line printed when redis-server is missing. */
export const REDIS_MISSING =
  "redis-server not found on PATH: install it with `apt-get install redis-server` or set REDIS_URL";

/** Where the embedded server keeps its generated passwords, under its data directory. */
export const CREDENTIALS_DIR = "credentials";
/** Its ACL file, under its data directory. */
export const ACL_FILE = "users.acl";
/** Its unix socket, under its data directory; the only way in (it listens on no TCP port). */
export const SOCKET_FILE = "redis.sock";
/** Owner-only access to the socket (the state directory is 0700 as well). */
const SOCKET_MODE = "700";
/** sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;
/** Answers to a probe without login that prove a server is up (`default` off or restricted). */
const AUTH_REFUSALS = /^(NOAUTH|NOPERM)\b/;

/** A running embedded redis-server. */
export interface EmbeddedRedis {
  /** The bot's URL (`commodore-bot`); it carries a password, so log it only redacted. */
  readonly url: string;
  /** The agents' URL (`commodore-agent`); it carries a password, so log it only redacted. */
  readonly agentUrl: string;
  /** The unix socket it listens on (no TCP port: nothing else on the machine can race for it). */
  readonly socket: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** Key prefixes the embedded server's ACL is written for. */
export interface EmbeddedRedisOptions {
  /** `redis.prefix` (default `commodore`). */
  readonly prefix?: string | undefined;
  /** `provision.redisPrefix` (default `{commodore:provision}:`). */
  readonly provisionPrefix?: string | undefined;
}

/** A login for {@link answersPing}. */
export interface PingCredentials {
  readonly username: string;
  readonly password: string;
}

/** The full path of `redis-server` on PATH, or undefined. */
export function findRedisServer(env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env["PATH"] ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "redis-server");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * True when a Redis on 127.0.0.1:`target` (a port) or at `target` (a unix socket path) is up
 * (false while it is not yet). With `credentials` it must answer PING with PONG as that user;
 * without, a server whose `default` user is off answers NOAUTH, which counts as up too.
 */
export async function answersPing(
  target: number | string,
  credentials?: PingCredentials,
): Promise<boolean> {
  const probe = new Redis({
    ...(typeof target === "number" ? { port: target, host: "127.0.0.1" } : { path: target }),
    lazyConnect: true,
    enableReadyCheck: false,
    retryStrategy: () => null,
    ...credentials,
  });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch (err) {
    return credentials === undefined && err instanceof Error && AUTH_REFUSALS.test(err.message);
  } finally {
    probe.disconnect();
  }
}

function loginUrl(user: string, password: string, socket: string): string {
  return `unix://${user}:${encodeURIComponent(password)}@${socket}`;
}

/**
 * Generates (once) the bot's and the agents' passwords and writes the ACL file for them;
 * returns its path and the passwords.
 */
function prepareAcl(
  dataDir: string,
  options: EmbeddedRedisOptions,
): { aclPath: string; bot: string; agent: string } {
  const dir = join(dataDir, CREDENTIALS_DIR);
  const hint = "check that the state directory (COMMODORE_STATE_DIR) is writable";
  const bot = ensurePasswordFile(dir, "bot", hint).password;
  const agent = ensurePasswordFile(dir, "agent", hint).password;
  const aclPath = join(dataDir, ACL_FILE);
  const acl = redisAcl({
    ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    ...(options.provisionPrefix === undefined ? {} : { provisionPrefix: options.provisionPrefix }),
    passwordSha256: { bot: passwordSha256(bot), agent: passwordSha256(agent) },
  });
  writeFileSync(aclPath, acl, { mode: PASSWORD_FILE_MODE });
  return { aclPath, bot, agent };
}

/**
 * Starts redis-server with `--dir <dataDir>` and the role-separated ACL; throws
 * E_REDIS_MISSING when it is not installed.
 */
export async function startEmbeddedRedis(
  dataDir: string,
  env: NodeJS.ProcessEnv,
  options: EmbeddedRedisOptions = {},
): Promise<EmbeddedRedis> {
  const binary = findRedisServer(env);
  if (binary === undefined) throw new CommodoreError("E_REDIS_MISSING", REDIS_MISSING);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const { aclPath, bot, agent } = prepareAcl(dataDir, options);
  const socket = resolvePath(dataDir, SOCKET_FILE);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES)
    throw new CommodoreError(
      "E_REDIS_START",
      `the embedded Redis socket path ${socket} is longer than the ${MAX_SOCKET_PATH_BYTES} bytes unix sockets allow`,
      { hint: "set COMMODORE_STATE_DIR to a shorter directory, or REDIS_URL to an existing Redis" },
    );
  rmSync(socket, { force: true });
  const args = [
    "--port",
    "0",
    "--unixsocket",
    socket,
    "--unixsocketperm",
    SOCKET_MODE,
    "--dir",
    dataDir,
    "--save",
    "60 1",
    "--appendonly",
    "no",
    "--protected-mode",
    "yes",
    "--aclfile",
    aclPath,
  ];
  const child: ChildProcess = spawn(binary, args, {
    stdio: ["ignore", "ignore", "pipe"],
    detached: false,
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2_000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + REDIS_START_TIMEOUT_MS;
  const login = { username: BOT_USER, password: bot };
  while (!(await answersPing(socket, login))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new CommodoreError(
        "E_REDIS_START",
        `embedded redis-server did not start: ${stderr.trim() || "no output"}`,
        {
          hint: "set REDIS_URL to use an existing Redis",
        },
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return {
    url: loginUrl(BOT_USER, bot, socket),
    agentUrl: loginUrl(AGENT_USER, agent, socket),
    socket,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), REDIS_STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
