/**
 * The embedded Redis's durability (AOF with fsync on every reply, loaded on start, an RDB-only
 * state directory converted without loss) and the start-up check of an external Redis's
 * persistence, against real redis-servers: a bot-like ACL user that may not run CONFIG, and
 * one that may not even run INFO.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { parseUnixUrl } from "../../lib/redis.ts";
import { createLogger, type Logger } from "../../lib/log.ts";
import {
  AOF_DIR,
  AOF_MANIFEST,
  RDB_FILE,
  answersPing,
  startEmbeddedRedis,
  type EmbeddedRedis,
} from "../../app/redis-server.ts";
import {
  STALE_SNAPSHOT_SECONDS,
  assessPersistence,
  checkRedisDurability,
} from "../../app/redis-durability.ts";
import { waitFor } from "../harness/ports.ts";
import { startRedis } from "../harness/redis-server.ts";
import { tempDir } from "../harness/tmp.ts";

const env = { PATH: process.env["PATH"] ?? "" };
const KEY = "commodore:durability-test";

function client(url: string): Redis {
  const r = new Redis({ ...parseUnixUrl(url), retryStrategy: () => null, maxRetriesPerRequest: 0 });
  r.on("error", () => undefined);
  return r;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function recording(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    level: "debug",
    sink: (l) => lines.push(JSON.parse(l) as Record<string, unknown>),
  });
  return { logger, lines };
}

describe("the embedded Redis is durable", () => {
  test("a write acknowledged just before a SIGKILL is there after the next start, from the AOF", async () => {
    const dir = join(tempDir("commodore-aof-"), "redis");
    const first: EmbeddedRedis = await startEmbeddedRedis(dir, env);
    assert.equal(first.convertedFromRdb, false);
    const bot = client(first.url);
    assert.equal(await bot.set(KEY, "acknowledged"), "OK");
    bot.disconnect();
    const pid = first.pid;
    assert.ok(pid !== undefined);
    process.kill(pid, "SIGKILL");
    await waitFor("redis-server to die", () => !alive(pid));
    assert.ok(existsSync(join(dir, AOF_DIR, AOF_MANIFEST)), "multi-part AOF in appendonlydir");
    assert.ok(!existsSync(join(dir, RDB_FILE)), "no snapshot was due: only the AOF has it");

    const second = await startEmbeddedRedis(dir, env);
    try {
      const again = client(second.url);
      assert.equal(await again.get(KEY), "acknowledged");
      const info = await again.info("persistence");
      assert.match(info, /^aof_enabled:1\r?$/m);
      again.disconnect();
    } finally {
      await second.stop();
    }
  });

  test("a state directory from before (dump.rdb, no AOF) is converted without losing it", async () => {
    const dir = join(tempDir("commodore-aof-migrate-"), "redis");
    // What the embedded Redis used to leave: an RDB snapshot and no append-only file.
    const socket = join(dir, "old.sock");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const old = spawn(
      "redis-server",
      ["--port", "0", "--unixsocket", socket, "--dir", dir, "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    const exited = new Promise((r) => old.once("exit", r));
    await waitFor("the old redis-server", () => answersPing(socket));
    const legacy = new Redis({ path: socket, retryStrategy: () => null });
    legacy.on("error", () => undefined);
    await legacy.set(KEY, "from the snapshot");
    await legacy.save();
    legacy.disconnect();
    old.kill("SIGKILL");
    await exited;
    assert.ok(existsSync(join(dir, RDB_FILE)) && !existsSync(join(dir, AOF_DIR)));

    const embedded = await startEmbeddedRedis(dir, env);
    try {
      assert.equal(embedded.convertedFromRdb, true);
      assert.ok(existsSync(join(dir, AOF_DIR, AOF_MANIFEST)));
      const bot = client(embedded.url);
      assert.equal(await bot.get(KEY), "from the snapshot");
      bot.disconnect();
    } finally {
      await embedded.stop();
    }
    const again = await startEmbeddedRedis(dir, env);
    try {
      assert.equal(again.convertedFromRdb, false, "converted once");
      const bot = client(again.url);
      assert.equal(await bot.get(KEY), "from the snapshot");
      bot.disconnect();
    } finally {
      await again.stop();
    }
  });
});

describe("assessPersistence", () => {
  const now = 2_000_000_000;
  const info = (fields: Record<string, string | number>) =>
    new Map(Object.entries(fields).map(([k, v]) => [k, String(v)]));
  test("AOF, snapshots, nothing, or unknown when CONFIG GET save is refused", () => {
    assert.equal(
      assessPersistence({ persistence: info({ aof_enabled: 1 }), save: undefined, nowSeconds: now })
        .kind,
      "aof",
    );
    assert.equal(
      assessPersistence({ persistence: info({ aof_enabled: 0 }), save: "", nowSeconds: now }).kind,
      "none",
    );
    assert.equal(
      assessPersistence({ persistence: info({ aof_enabled: 0 }), save: "3600 1", nowSeconds: now })
        .kind,
      "snapshots",
    );
    const refused = (fields: Record<string, string | number>) =>
      assessPersistence({
        persistence: info({ aof_enabled: 0, ...fields }),
        save: undefined,
        nowSeconds: now,
      }).kind;
    assert.equal(refused({ rdb_saves: 3, rdb_last_save_time: now - 10 }), "snapshots");
    assert.equal(
      refused({
        rdb_saves: 0,
        rdb_changes_since_last_save: 42,
        rdb_last_save_time: now - STALE_SNAPSHOT_SECONDS - 1,
      }),
      "none",
      "unsaved changes older than any default save point: evidently none",
    );
    assert.equal(
      refused({ rdb_saves: 0, rdb_changes_since_last_save: 42, rdb_last_save_time: now - 60 }),
      "unknown",
    );
    assert.equal(
      refused({ rdb_saves: 0, rdb_changes_since_last_save: 0, rdb_last_save_time: now - 99_999 }),
      "unknown",
      "nothing written, nothing to tell",
    );
  });
});

describe("checkRedisDurability on an external Redis", () => {
  test("warns for no persistence, is quiet for AOF, and never throws when the ACL refuses CONFIG or INFO", async () => {
    const redis = await startRedis(["--appendonly", "no", "--save", ""]);
    const admin = new Redis({ port: redis.port, host: "127.0.0.1", retryStrategy: () => null });
    admin.on("error", () => undefined);
    const as = (user: string) => {
      const r = new Redis({
        port: redis.port,
        host: "127.0.0.1",
        username: user,
        password: "pw",
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
        enableReadyCheck: false,
      });
      r.on("error", () => undefined);
      return r;
    };
    try {
      // The default user may run CONFIG: a definite verdict, one warning.
      let rec = recording();
      assert.deepEqual(
        (await checkRedisDurability(admin, rec.logger)).map((v) => v.kind),
        ["none"],
      );
      const warns = rec.lines.filter((l) => l["level"] === "warn");
      assert.equal(warns.length, 1);
      assert.match(String(warns[0]?.["msg"]), /^Redis persists nothing: a crash/);
      assert.match(String(warns[0]?.["hint"]), /appendonly yes.*appendfsync/);

      // Like the shipped bot ACL: everything but @dangerous (so no CONFIG), INFO given back.
      await admin.call(
        "ACL",
        "SETUSER",
        "botlike",
        "on",
        ">pw",
        "~*",
        "+@all",
        "-@dangerous",
        "+info",
      );
      const botlike = as("botlike");
      rec = recording();
      const verdicts = await checkRedisDurability(botlike, rec.logger);
      assert.deepEqual(
        verdicts.map((v) => v.kind),
        ["unknown"],
        "a fresh server: cannot tell",
      );
      assert.equal(rec.lines.filter((l) => l["level"] === "warn").length, 0);
      assert.match(String(rec.lines[0]?.["msg"]), /save points are unknown/);
      botlike.disconnect();

      // No INFO either: said at info level, nothing thrown.
      await admin.call(
        "ACL",
        "SETUSER",
        "noinfo",
        "on",
        ">pw",
        "~*",
        "+@all",
        "-@dangerous",
        "-info",
      );
      const noinfo = as("noinfo");
      rec = recording();
      assert.deepEqual(await checkRedisDurability(noinfo, rec.logger), []);
      assert.equal(rec.lines.length, 1);
      assert.equal(rec.lines[0]?.["level"], "info");
      assert.match(String(rec.lines[0]?.["msg"]), /INFO is refused by the ACL/);
      noinfo.disconnect();

      // With an append-only file: nothing above debug.
      await admin.config("SET", "appendonly", "yes");
      await waitFor("the AOF rewrite", async () =>
        /^aof_rewrite_in_progress:0\r?$/m.test(await admin.info("persistence")),
      );
      rec = recording();
      assert.deepEqual(
        (await checkRedisDurability(admin, rec.logger)).map((v) => v.kind),
        ["aof"],
      );
      assert.deepEqual(
        rec.lines.map((l) => l["level"]),
        ["debug"],
      );
    } finally {
      admin.disconnect();
      await redis.stop();
    }
  });
});
