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
 *
 * It is durable: an append-only file with `appendfsync always` (see {@link EMBEDDED_APPENDFSYNC})
 * in `<dataDir>/appendonlydir/` (Redis 7's multi-part AOF: a base file, incremental files and a
 * manifest), loaded on every start, so whatever Redis acknowledged to the bot — an enrollment
 * decision, a pending confirmation, a job — survives a SIGKILL of the whole process group or a
 * power cut. A state directory from before (an RDB snapshot, `dump.rdb`, and no AOF yet) is
 * converted once, by Redis itself, before the first durable start (see {@link migrateRdbToAof}).
 * RDB snapshots keep being written beside it ({@link EMBEDDED_SAVE}) as an easy file to back up.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
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
/** How long `redis-server --version` may take. */
const VERSION_TIMEOUT_MS = 5_000;
/** The first Redis with the multi-part AOF in a directory (`appenddirname`). */
const FIRST_MULTI_PART_AOF_MAJOR = 7;

/** The one line printed when redis-server is missing. */
export const REDIS_MISSING =
  "redis-server not found on PATH: install it with `apt-get install redis-server` or set REDIS_URL";

/** Where the embedded server keeps its generated passwords, under its data directory. */
export const CREDENTIALS_DIR = "credentials";
/** Its ACL file, under its data directory. */
export const ACL_FILE = "users.acl";
/** Its unix socket, under its data directory; the only way in (it listens on no TCP port). */
export const SOCKET_FILE = "redis.sock";
/**
 * `appendonly yes`: every write is appended to the AOF, which Redis replays on start (it is
 * preferred over the RDB snapshot when both exist).
 */
export const EMBEDDED_APPENDONLY: "yes" | "no" = "yes";
/**
 * `appendfsync always`: Redis fsyncs the AOF before it answers the clients whose writes it
 * holds. Redis's persistence documentation: "fsync every time new commands are appended to
 * the AOF. […] the commands are appended to the AOF after a batch of commands from multiple
 * clients or a pipeline are executed, so it means a single write and a single fsync (before
 * sending the replies)" — in Redis 7 the event loop's `beforeSleep` flushes and fsyncs the AOF
 * (`flushAppendOnlyFile`) before it writes the pending replies, and a failed fsync under this
 * policy makes Redis exit rather than answer. So when the bot has an `OK` for a revocation, a
 * confirmation code or a job id, it is on disk. (`everysec` would lose up to a second or two
 * of acknowledged writes in a power cut; the bot's write rate is small enough for `always`,
 * whose fsyncs are batched per event-loop turn, i.e. group-committed.)
 */
export const EMBEDDED_APPENDFSYNC = "always";
/** `appenddirname`: the AOF directory under the data directory (Redis 7's default name). */
export const AOF_DIR = "appendonlydir";
/** `appendfilename`: the AOF's base name inside {@link AOF_DIR} (Redis's default). */
export const AOF_FILENAME = "appendonly.aof";
/** Redis 7 lists the AOF's parts in `<appendfilename>.manifest`; its presence means an AOF exists. */
export const AOF_MANIFEST = `${AOF_FILENAME}.manifest`;
/** `dbfilename`: the RDB snapshot in the data directory (Redis's default name). */
export const RDB_FILE = "dump.rdb";
/**
 * `save`: an RDB snapshot at most a minute after a change. Not what makes the data durable
 * (the AOF is); a single file to copy for backups (see docs/operations.md).
 */
export const EMBEDDED_SAVE = "60 1";
/** How long the one-off conversion of an RDB-only state directory to AOF may take. */
export const AOF_MIGRATION_TIMEOUT_MS = 60_000;
/** Its temporary socket, under the data directory (the real socket does not exist yet). */
const MIGRATION_SOCKET_FILE = "redis-migrate.sock";
/** Bytes of the migration server's one-off random password. */
const MIGRATION_PASSWORD_BYTES = 32;
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
  /** True when this start converted an RDB-only data directory to AOF first. */
  readonly convertedFromRdb: boolean;
  /** Where its append-only file lives (`<dataDir>/appendonlydir`). */
  readonly aofDir: string;
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

/** The major version of `binary` (`redis-server --version` says `… v=7.0.15 …`), or undefined. */
export function redisMajorVersion(binary: string): number | undefined {
  const out = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: VERSION_TIMEOUT_MS });
  const major = /\bv=(\d+)\./.exec(out.stdout ?? "")?.[1];
  return major === undefined ? undefined : Number(major);
}

/** True when `dataDir` holds an AOF already (Redis 7's manifest, or Redis 6's single file). */
export function hasAof(dataDir: string): boolean {
  return (
    existsSync(join(dataDir, AOF_DIR, AOF_MANIFEST)) || existsSync(join(dataDir, AOF_FILENAME))
  );
}

/** A private server: no TCP port, only `socket`, readable by its owner alone. */
function socketArgs(socket: string): string[] {
  return ["--port", "0", "--unixsocket", socket, "--unixsocketperm", SOCKET_MODE];
}

/**
 * The persistence arguments of the embedded server: AOF with fsync before every reply,
 * loaded on start, and RDB snapshots beside it. `appenddirname` exists from Redis 7 on; older
 * servers keep their single `appendonly.aof` in the data directory.
 */
export function durabilityArgs(
  dataDir: string,
  major: number | undefined,
  overrides: { readonly appendonly?: "yes" | "no"; readonly save?: string } = {},
): string[] {
  return [
    "--dir",
    dataDir,
    "--dbfilename",
    RDB_FILE,
    "--save",
    overrides.save ?? EMBEDDED_SAVE,
    "--appendonly",
    overrides.appendonly ?? EMBEDDED_APPENDONLY,
    "--appendfsync",
    EMBEDDED_APPENDFSYNC,
    "--appendfilename",
    AOF_FILENAME,
    ...(major === undefined || major >= FIRST_MULTI_PART_AOF_MAJOR
      ? ["--appenddirname", AOF_DIR]
      : []),
  ];
}

function startFailure(
  message: string,
  hint = "set REDIS_URL to use an existing Redis",
): CommodoreError {
  return new CommodoreError("E_REDIS_START", message, { hint });
}

/** Resolves once `child` has exited (at once when it already has). */
function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Converts a state directory written before the embedded Redis was durable (an RDB snapshot,
 * no AOF) without losing it. Starting with `appendonly yes` straight away would not do: with
 * no AOF yet, Redis starts empty and ignores `dump.rdb` (and would then overwrite it with an
 * empty snapshot). So, as Redis's persistence documentation describes the switch, a private
 * server loads the snapshot with AOF off, `CONFIG SET appendonly yes` makes it write the AOF
 * from memory, and it exits once that rewrite is done. It listens only on a temporary socket
 * in the data directory with a one-off password, and saves no snapshot (`dump.rdb` is left
 * as it was, a backup of the pre-AOF state).
 */
export async function migrateRdbToAof(
  binary: string,
  dataDir: string,
  major: number | undefined,
): Promise<void> {
  const socket = resolvePath(dataDir, MIGRATION_SOCKET_FILE);
  rmSync(socket, { force: true });
  const password = randomBytes(MIGRATION_PASSWORD_BYTES).toString("hex");
  // Loads the snapshot (AOF off at start) and saves none of its own.
  const persistence = durabilityArgs(dataDir, major, { appendonly: "no", save: "" });
  const child = spawn(
    binary,
    [...socketArgs(socket), ...persistence, "--protected-mode", "yes", "--requirepass", password],
    { stdio: ["ignore", "ignore", "pipe"], detached: false },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2_000)));
  const deadline = Date.now() + AOF_MIGRATION_TIMEOUT_MS;
  const fail = (what: string) =>
    startFailure(
      `converting ${join(dataDir, RDB_FILE)} to an append-only file failed: ${what}${stderr.trim() === "" ? "" : `: ${stderr.trim()}`}`,
      `${RDB_FILE} is left as it was: move it aside to start with an empty Redis (see docs/operations.md), or set REDIS_URL to use an existing Redis`,
    );
  const client = new Redis({
    path: socket,
    password,
    lazyConnect: true,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined);
  try {
    while (!(await answersPing(socket, { username: "default", password }))) {
      if (child.exitCode !== null || Date.now() > deadline) throw fail("the server did not start");
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    await client.connect();
    await client.config("SET", "appendonly", "yes");
    for (;;) {
      const info = parseInfo(await client.info("persistence"));
      if (info.get("aof_last_bgrewrite_status") === "err") throw fail("the AOF rewrite failed");
      const done =
        info.get("aof_rewrite_in_progress") === "0" &&
        info.get("aof_rewrite_scheduled") === "0" &&
        hasAof(dataDir);
      if (done) break;
      if (child.exitCode !== null || Date.now() > deadline)
        throw fail("the AOF rewrite did not finish");
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    client.disconnect();
    // SIGTERM is Redis's SHUTDOWN: the AOF is fsynced; with no save points no snapshot is written.
    const exited = exitOf(child);
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), REDIS_STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    rmSync(socket, { force: true });
  }
}

/** `field:value` lines of an INFO answer. */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#"))
      fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
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
  const major = redisMajorVersion(binary);
  const convertedFromRdb = !hasAof(dataDir) && existsSync(join(dataDir, RDB_FILE));
  if (convertedFromRdb) await migrateRdbToAof(binary, dataDir, major);
  const args = [
    ...socketArgs(socket),
    ...durabilityArgs(dataDir, major),
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
      throw startFailure(`embedded redis-server did not start: ${stderr.trim() || "no output"}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return {
    url: loginUrl(BOT_USER, bot, socket),
    agentUrl: loginUrl(AGENT_USER, agent, socket),
    socket,
    pid: child.pid,
    convertedFromRdb,
    aofDir: join(dataDir, AOF_DIR),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), REDIS_STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
