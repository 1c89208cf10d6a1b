/**
 * Redis is a bus, not a trust anchor: confirmations and jobs written straight into Redis (as
 * `redis-cli` would) are refused unless this bot sealed them for that key, a consumed
 * confirmation written back does not run twice, and nothing that reads jobs (`job`, `jobs`,
 * HTTP `/jobs`, the status page) breaks on a refused record.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { hashToken } from "../../transports/http/tokens.ts";
import type { BotEvent } from "../../bot/contract.ts";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import { silentLogger } from "../../lib/log.ts";
import { STATE_REJECTED_METRIC } from "../../lib/seal.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { fleetDouble } from "../harness/fleet-double.ts";
import { who } from "../harness/bot.ts";
import { startTestStatus, type TestStatus } from "../harness/status.ts";

const PREFIX = "commodore:";
const CONFIG = {
  roles: { admin: { grants: [{ command: "*" }] } },
  principals: [{ id: "root", roles: ["admin"], http: { tokenSha256: hashToken("root-token") } }],
  bot: {
    dangerousHostThreshold: 5,
    confirm: { requireOtherPerson: true },
    providers: { wipe: { risk: "dangerous" } },
  },
};
const NODES = ["www1", "www2"].map((hostname) => ({ hostname, facts: { role: "web" } }));
const AUTH = { authorization: "Bearer root-token" };
const root = who("root", ["admin"]);
const rita = who("rita", ["admin"]);

interface Envelope {
  v: number;
  kid: string;
  payload: string;
  mac: string;
}

function errorCode(events: BotEvent[]): string | undefined {
  const error = events.find((e) => e.type === "error");
  return error?.type === "error" ? error.code : undefined;
}

function resultOk(events: BotEvent[]): boolean | undefined {
  const result = events.find((e) => e.type === "result");
  return result?.type === "result" ? result.ok : undefined;
}

/** `raw` with its sealed payload changed by `edit` (the MAC left as it was). */
function editPayload(raw: string, edit: (payload: Record<string, unknown>) => void): string {
  const envelope = JSON.parse(raw) as Envelope;
  const payload = JSON.parse(envelope.payload) as Record<string, unknown>;
  edit(payload);
  return JSON.stringify({ ...envelope, payload: JSON.stringify(payload) });
}

describe("sealed controller state against a Redis writer", () => {
  let server: TestRedis;
  let redis: Redis;
  /** The attacker's own connection: raw commands, as redis-cli would send them. */
  let writer: Redis;
  let ui: TestStatus;
  const double = fleetDouble(NODES);

  const rejected = (kind: string, reason: string) =>
    ui.bot.metrics.counter(STATE_REJECTED_METRIC, "").get({ kind, reason });
  const confirmKey = (code: string) => `${PREFIX}confirm:${code}`;
  const jobKey = (id: string) => `${PREFIX}job:{${id}}`;
  const wipes = () => double.requests.filter((r) => r.provider === "wipe").length;

  /** Asks for the dangerous `fleet wipe` as root and returns the code. */
  async function ask(): Promise<string> {
    const events = await ui.bot.run(root, "fleet wipe");
    const confirm = events.find((e) => e.type === "confirm");
    assert.ok(confirm?.type === "confirm", JSON.stringify(events));
    return confirm.code;
  }

  /** Runs a read command as root and returns its job id. */
  async function readJob(): Promise<string> {
    const events = await ui.bot.run(root, "fleet ping");
    const accepted = events.find((e) => e.type === "accepted");
    assert.ok(accepted?.type === "accepted", JSON.stringify(events));
    return accepted.jobId;
  }

  before(async () => {
    server = await startRedis();
    redis = connectRedis({ url: server.url, name: "test-sealed", logger: silentLogger });
    await waitReady(redis, server.url);
    writer = new Redis(server.url);
    ui = await startTestStatus(CONFIG, redis, double.fleet);
  });
  after(async () => {
    await ui.close();
    writer.disconnect();
    await closeRedis(redis);
    await server.stop();
  });

  test("(a) a planted unsealed confirmation with risk read is refused and counted", async () => {
    const code = "k7m2qx";
    await writer.set(
      confirmKey(code),
      JSON.stringify({
        code,
        nonce: "00".repeat(16),
        requester: { id: "mallory", roles: ["admin"], display: "mallory" },
        transport: "cli",
        text: "fleet wipe",
        command: "fleet",
        args: { provider: "wipe", args: [] },
        where: {},
        risk: "read",
        targets: ["www1", "www2"],
        summary: "would run",
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
        needsOtherPerson: false,
      }),
    );
    const before = wipes();
    const events = await ui.bot.run(rita, `confirm ${code}`);
    assert.equal(errorCode(events), "E_CONFIRM_TAMPERED", JSON.stringify(events));
    assert.equal(rejected("confirm", "unsigned"), 1);
    assert.equal(wipes(), before, "nothing ran");

    // A forged envelope claiming this bot's key id fails its MAC.
    const forged = { v: 1, kid: ui.bot.sealer.keyId, payload: "{}", mac: "A".repeat(43) };
    await writer.set(confirmKey(code), JSON.stringify(forged));
    assert.equal(errorCode(await ui.bot.run(rita, `confirm ${code}`)), "E_CONFIRM_TAMPERED");
    assert.equal(rejected("confirm", "bad_mac"), 1);
    assert.equal(wipes(), before);
  });

  test("(b) a real confirmation with risk, requester or needsOtherPerson edited is refused", async () => {
    const code = await ask();
    const raw = await writer.get(confirmKey(code));
    assert.ok(raw !== null);
    const badMacBefore = rejected("confirm", "bad_mac");
    const edits: Array<(p: Record<string, unknown>) => void> = [
      (p) => (p["risk"] = "read"),
      (p) => (p["requester"] = { id: "mallory", roles: [], display: "mallory" }),
      (p) => (p["needsOtherPerson"] = false),
    ];
    for (const edit of edits) {
      await writer.set(confirmKey(code), editPayload(raw, edit), "KEEPTTL");
      // root asked; with needsOtherPerson cleared root could confirm their own command.
      const events = await ui.bot.run(root, `confirm ${code}`);
      assert.equal(errorCode(events), "E_CONFIRM_TAMPERED", JSON.stringify(events));
    }
    assert.equal(rejected("confirm", "bad_mac"), badMacBefore + edits.length);

    // The untouched record still works, once, for someone else.
    await writer.set(confirmKey(code), raw, "KEEPTTL");
    const before = wipes();
    assert.equal(resultOk(await ui.bot.run(rita, `confirm ${code}`)), true);
    assert.equal(wipes(), before + 1);
  });

  test("(c) a sealed confirmation moved to another code is refused", async () => {
    const code = await ask();
    const raw = await writer.getdel(confirmKey(code));
    assert.ok(raw !== null);
    const other = code === "zzzzzz" ? "yyyyyy" : "zzzzzz";
    await writer.set(confirmKey(other), raw, "EX", 300);
    const badMacBefore = rejected("confirm", "bad_mac");
    const before = wipes();
    assert.equal(errorCode(await ui.bot.run(rita, `confirm ${other}`)), "E_CONFIRM_TAMPERED");
    assert.equal(rejected("confirm", "bad_mac"), badMacBefore + 1);
    assert.equal(wipes(), before);
  });

  test("(d) a consumed confirmation written back under its code does not run twice", async () => {
    const code = await ask();
    const raw = await writer.get(confirmKey(code));
    assert.ok(raw !== null);
    const before = wipes();
    assert.equal(resultOk(await ui.bot.run(rita, `confirm ${code}`)), true);
    assert.equal(wipes(), before + 1);
    assert.equal(await writer.exists(confirmKey(code)), 0, "consumed");

    await writer.set(confirmKey(code), raw, "EX", 300);
    const again = await ui.bot.run(rita, `confirm ${code}`);
    assert.equal(errorCode(again), "E_CONFIRM_REPLAYED", JSON.stringify(again));
    assert.ok(rejected("confirm", "replayed") >= 1);
    assert.equal(wipes(), before + 1, "ran once");
    // The consumed marker lives past the record's expiry, in the confirm namespace.
    const markers = await writer.keys(`${PREFIX}confirm:used:*`);
    assert.ok(markers.length >= 1);
    assert.ok((await writer.ttl(markers[0] ?? "")) > 300);
  });

  test("(e) a planted or edited job is not shown as valid, and no reader breaks", async () => {
    const id = await readJob();
    const listed = async () => {
      const events = await ui.bot.run(root, "jobs 100");
      const result = events.find((e) => e.type === "result");
      assert.ok(result?.type === "result" && result.result.kind === "data");
      return (result.result.data as { jobs: Array<{ id: string }> }).jobs.map((j) => j.id);
    };
    assert.ok((await listed()).includes(id));

    // Edited: the record claims another principal.
    const raw = await writer.get(jobKey(id));
    assert.ok(raw !== null);
    await writer.set(
      jobKey(id),
      editPayload(raw, (p) => (p["principal"] = "mallory")),
      "KEEPTTL",
    );
    assert.equal(errorCode(await ui.bot.run(root, `job ${id}`)), "E_NOT_FOUND");
    assert.ok(!(await listed()).includes(id));
    assert.ok(rejected("job", "bad_mac") >= 1);

    // Planted: an unsealed record in the index.
    const planted = "j0123456789ab";
    await writer.set(
      jobKey(planted),
      JSON.stringify({
        id: planted,
        text: "fleet ping",
        command: "fleet",
        principal: "root",
        transport: "cli",
        state: "succeeded",
        createdAt: new Date().toISOString(),
      }),
    );
    await writer.zadd(`${PREFIX}jobs`, Date.now(), planted);
    assert.equal(errorCode(await ui.bot.run(root, `job ${planted}`)), "E_NOT_FOUND");
    assert.ok(!(await listed()).includes(planted));
    assert.ok(rejected("job", "unsigned") >= 1);

    // HTTP and the status page answer, without a 500, and list only the real jobs.
    const good = await readJob();
    for (const path of [
      `/jobs/${id}`,
      `/jobs/${planted}`,
      `/ui/jobs/${id}`,
      `/ui/jobs/${planted}`,
    ]) {
      const res = await fetch(ui.base + path, { headers: AUTH });
      assert.equal(res.status, 404, path);
    }
    const list = await fetch(`${ui.base}/jobs`, { headers: AUTH });
    assert.equal(list.status, 200);
    const ids = ((await list.json()) as { jobs: Array<{ id: string }> }).jobs.map((j) => j.id);
    assert.ok(ids.includes(good) && !ids.includes(planted) && !ids.includes(id), ids.join(" "));
    const page = await fetch(`${ui.base}/ui/jobs`, { headers: AUTH });
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, new RegExp(`/ui/jobs/${good}"`));
    assert.doesNotMatch(html, new RegExp(`/ui/jobs/(${planted}|${id})"`));
    const stream = await fetch(`${ui.base}/ui/jobs/${planted}/events`, { headers: AUTH });
    assert.ok(stream.status < 500, `events stream: ${stream.status}`);
    await stream.body?.cancel();

    // A planted or edited progress event of a real job is left out.
    const eventsKey = `${jobKey(good)}:events`;
    const count = async () => {
      const events = await ui.bot.run(root, `job ${good}`);
      const result = events.find((e) => e.type === "result");
      assert.ok(result?.type === "result" && result.result.kind === "data");
      return (result.result.data as { events: unknown[] }).events.length;
    };
    const real = await count();
    assert.ok(real > 0);
    await writer.rpush(
      eventsKey,
      JSON.stringify({ at: new Date().toISOString(), event: { type: "progress", text: "fake" } }),
    );
    const [first] = await writer.lrange(eventsKey, 0, 0);
    assert.ok(first !== undefined);
    await writer.lset(
      eventsKey,
      0,
      editPayload(first, (p) => (p["at"] = "1970-01-01T00:00:00Z")),
    );
    assert.equal(await count(), real - 1);
    assert.ok(rejected("job-event", "unsigned") >= 1);
    assert.ok(rejected("job-event", "bad_mac") >= 1);
  });
});
