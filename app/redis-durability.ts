/**
 * The start-up check of a configured (external) Redis's persistence. Jobs, pending
 * confirmations and enrollment decisions (accepted and revoked host keys) live only in Redis,
 * so a Redis that persists nothing loses all of them in a crash or restart of it; the bot says
 * so once, at start, with what to set. It never fails start-up: a check that cannot be made
 * (INFO refused by the ACL, a timeout) is reported at info level and start goes on.
 *
 * What it reads: `INFO persistence` (`aof_enabled`, the `rdb_*` fields) and `CONFIG GET save`.
 * The shipped bot ACL (app/redis-acl.ts) refuses CONFIG (`-@dangerous`: `CONFIG GET` would
 * reveal passwords), so without it the save points are inferred from INFO: a server that has
 * not snapshotted for longer than Redis's longest default save interval while holding unsaved
 * changes ({@link STALE_SNAPSHOT_SECONDS}) evidently has no save point that would.
 */
import { errorMessage } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import { isCluster, type RedisClient } from "../lib/redis/client.ts";
import { parseInfo } from "./redis-server.ts";

/** How long the whole check may take before start-up goes on without it. */
export const DURABILITY_CHECK_TIMEOUT_MS = 3_000;
/**
 * Seconds without a snapshot, with unsaved changes, after which a server whose save points are
 * unreadable is taken to have none: Redis's longest default save point is `3600 1` (an hour
 * after one change), plus a minute of slack.
 */
export const STALE_SNAPSHOT_SECONDS = 3_660;
/** Where the recommended settings are explained. */
export const DURABILITY_DOC = "docs/config.md#redis";
/** What to set, in every report that is not `aof`. */
export const DURABILITY_HINT = `set \`appendonly yes\` and \`appendfsync always\` (or \`everysec\`, which may lose the last second) in redis.conf, or CONFIG SET appendonly yes on the running server; see ${DURABILITY_DOC}`;
/** What a crash of a Redis without persistence takes with it. */
const LOST =
  "every job, pending confirmation and enrollment decision (accepted and revoked host keys)";
const MICROS_PER_SECOND = 1_000_000;
const MS_PER_SECOND = 1_000;
/** Redis answers a command its ACL forbids with NOPERM. */
const ACL_REFUSAL = /^NOPERM\b|no permissions/i;

/** How one Redis server persists its data. */
export interface PersistenceVerdict {
  /**
   * `aof`: an append-only file; `snapshots`: RDB snapshots only (a crash loses writes since the
   * last one); `none`: nothing (or evidently nothing); `unknown`: no AOF and the save points
   * could not be read.
   */
  readonly kind: "aof" | "snapshots" | "none" | "unknown";
  /** One line on what was found. */
  readonly detail: string;
  /** The evidence (INFO fields, save points) for the log line. */
  readonly fields: Readonly<Record<string, string | number>>;
}

/** What {@link assessPersistence} reads. */
export interface PersistenceFacts {
  /** `INFO persistence` as parsed by {@link parseInfo}. */
  readonly persistence: ReadonlyMap<string, string>;
  /** `CONFIG GET save`'s value (`""` for none), or undefined when CONFIG was refused. */
  readonly save: string | undefined;
  /** `CONFIG GET appendfsync`'s value, or undefined. */
  readonly appendfsync?: string | undefined;
  /** The server's clock in seconds (INFO server `server_time_usec`), else the local one. */
  readonly nowSeconds: number;
}

function num(info: ReadonlyMap<string, string>, field: string): number | undefined {
  const raw = info.get(field);
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

/** The verdict on one server's persistence (pure: the facts in, the verdict out). */
export function assessPersistence(facts: PersistenceFacts): PersistenceVerdict {
  const info = facts.persistence;
  if (info.get("aof_enabled") === "1")
    return {
      kind: "aof",
      detail: "append-only file on",
      fields: facts.appendfsync === undefined ? {} : { appendfsync: facts.appendfsync },
    };
  if (facts.save !== undefined)
    return facts.save.trim() === ""
      ? {
          kind: "none",
          detail: "no append-only file and no save points",
          fields: { aof_enabled: 0, save: "" },
        }
      : {
          kind: "snapshots",
          detail: `RDB snapshots only (save ${facts.save})`,
          fields: { aof_enabled: 0, save: facts.save },
        };
  const saves = num(info, "rdb_saves");
  const changes = num(info, "rdb_changes_since_last_save") ?? 0;
  const lastSave = num(info, "rdb_last_save_time");
  const age = lastSave === undefined ? undefined : Math.max(0, facts.nowSeconds - lastSave);
  const fields = {
    aof_enabled: 0,
    save: "unknown (CONFIG GET refused)",
    rdb_changes_since_last_save: changes,
    ...(saves === undefined ? {} : { rdb_saves: saves }),
    ...(age === undefined ? {} : { seconds_since_last_save: Math.round(age) }),
  };
  if (info.get("rdb_bgsave_in_progress") === "1" || (saves !== undefined && saves > 0))
    return {
      kind: "snapshots",
      detail: "RDB snapshots only (it has saved since it started)",
      fields,
    };
  if (changes > 0 && age !== undefined && age > STALE_SNAPSHOT_SECONDS)
    return {
      kind: "none",
      detail: `no append-only file, and no snapshot for ${Math.round(age)} s despite ${changes} unsaved changes: evidently no save points`,
      fields,
    };
  return {
    kind: "unknown",
    detail: "no append-only file; its save points could not be read (CONFIG GET refused)",
    fields,
  };
}

/** CONFIG GET `name`: its value, or undefined when the ACL (or anything else) refuses it. */
async function configValue(
  server: RedisClient,
  name: string,
): Promise<{ value: string | undefined; refusal?: string }> {
  try {
    const answer = (await server.call("CONFIG", "GET", name)) as unknown;
    if (Array.isArray(answer) && typeof answer[1] === "string") return { value: answer[1] };
    return { value: undefined, refusal: "unexpected answer" };
  } catch (err) {
    return { value: undefined, refusal: errorMessage(err) };
  }
}

/** The facts of one server; throws when INFO itself is refused. */
async function factsOf(server: RedisClient): Promise<PersistenceFacts> {
  const persistence = parseInfo(await server.info("persistence"));
  let nowSeconds = Date.now() / MS_PER_SECOND;
  try {
    const usec = num(parseInfo(await server.info("server")), "server_time_usec");
    if (usec !== undefined) nowSeconds = usec / MICROS_PER_SECOND;
  } catch {
    // the local clock will do
  }
  const aofOn = persistence.get("aof_enabled") === "1";
  const [save, appendfsync] = await Promise.all([
    aofOn ? Promise.resolve({ value: undefined }) : configValue(server, "save"),
    aofOn ? configValue(server, "appendfsync") : Promise.resolve({ value: undefined }),
  ]);
  return { persistence, save: save.value, appendfsync: appendfsync.value, nowSeconds };
}

/** `host:port` of a cluster node, for the log. */
function nodeName(server: RedisClient): string {
  const options = (server as { options?: { host?: string; port?: number; path?: string } }).options;
  return options?.path ?? `${options?.host ?? "?"}:${options?.port ?? "?"}`;
}

/** Logs what one verdict means for the operator: one line per server. */
export function reportPersistence(
  logger: Logger,
  verdict: PersistenceVerdict,
  node: string | undefined,
): void {
  const where = node === undefined ? {} : { node };
  switch (verdict.kind) {
    case "aof":
      if (verdict.fields["appendfsync"] === "no")
        logger.info(
          "Redis writes an append-only file but never fsyncs it (appendfsync no): a power cut may lose the last ~30 s",
          { ...where, ...verdict.fields, hint: DURABILITY_HINT },
        );
      else logger.debug("Redis persistence checked", { ...where, detail: verdict.detail });
      return;
    case "none":
      logger.warn(`Redis persists nothing: a crash or restart of it loses ${LOST}`, {
        ...where,
        detail: verdict.detail,
        ...verdict.fields,
        hint: DURABILITY_HINT,
      });
      return;
    case "snapshots":
      logger.info(
        "Redis persists RDB snapshots only: a crash loses what was written since the last snapshot",
        { ...where, detail: verdict.detail, ...verdict.fields, hint: DURABILITY_HINT },
      );
      return;
    case "unknown":
      logger.info(
        `Redis has no append-only file and its save points are unknown: if it has none, a crash of it loses ${LOST}`,
        { ...where, detail: verdict.detail, ...verdict.fields, hint: DURABILITY_HINT },
      );
      return;
  }
}

/**
 * Checks how the configured Redis persists (every primary of a cluster) and logs it; resolves
 * with the verdicts (empty when it could not check). Never rejects and never takes longer than
 * {@link DURABILITY_CHECK_TIMEOUT_MS}.
 */
export async function checkRedisDurability(
  redis: RedisClient,
  logger: Logger,
  timeoutMs: number = DURABILITY_CHECK_TIMEOUT_MS,
): Promise<PersistenceVerdict[]> {
  const servers: Array<{ server: RedisClient; node: string | undefined }> = isCluster(redis)
    ? redis.nodes("master").map((server) => ({ server, node: nodeName(server) }))
    : [{ server: redis, node: undefined }];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
    timer.unref();
  });
  const check = async (): Promise<PersistenceVerdict[]> => {
    const verdicts: PersistenceVerdict[] = [];
    for (const { server, node } of servers) {
      let facts: PersistenceFacts;
      try {
        facts = await factsOf(server);
      } catch (err) {
        const message = errorMessage(err);
        logger.info(
          ACL_REFUSAL.test(message)
            ? "could not check Redis persistence: INFO is refused by the ACL (grant +info to check it at start)"
            : "could not check Redis persistence",
          { ...(node === undefined ? {} : { node }), error: message },
        );
        continue;
      }
      const verdict = assessPersistence(facts);
      reportPersistence(logger, verdict, node);
      verdicts.push(verdict);
    }
    return verdicts;
  };
  try {
    const outcome = await Promise.race([check(), timeout]);
    if (outcome === "timeout") {
      logger.info("could not check Redis persistence: no answer in time", { timeoutMs });
      return [];
    }
    return outcome;
  } catch (err) {
    logger.info("could not check Redis persistence", { error: errorMessage(err) });
    return [];
  } finally {
    clearTimeout(timer);
  }
}
