/**
 * One pub/sub bus per bot process: the fleet controller, a local agent sharing the bot's login,
 * the status page's live job streams and provisioning notices all subscribe on the one bus
 * `startServices` opens, so the bot holds one subscriber connection however many parts listen.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { Redis } from "ioredis";
import { startServices, type Services } from "../../app/services.ts";
import { configSchema } from "../../config/schema.ts";
import { silentLogger } from "../../lib/log.ts";
import { hashToken } from "../../transports/http/tokens.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { tempDir } from "../harness/tmp.ts";

/** The connection name the bot's connections carry (`CLIENT SETNAME`). */
const BOT_CONNECTION = "commodore-bot";
const TOKEN = "root-token";

/** One `CLIENT LIST` line as fields. */
type ClientInfo = Readonly<Record<string, string>>;

async function botClients(admin: Redis): Promise<ClientInfo[]> {
  const list = String(await admin.call("CLIENT", "LIST"));
  return list
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) =>
      Object.fromEntries(
        line
          .trim()
          .split(" ")
          .map((f) => f.split("=", 2)),
      ),
    )
    .filter((c: ClientInfo) => c["name"] === BOT_CONNECTION);
}

/** A connection in subscriber mode now, or whose last command was a (un)subscription. */
const SUBSCRIBER_COMMAND = /^s?(un)?subscribe$/;
const subscriber = (c: ClientInfo) =>
  (c["flags"] ?? "").includes("P") || SUBSCRIBER_COMMAND.test(c["cmd"] ?? "");

describe("the bot's Redis connections", () => {
  let redis: TestRedis;
  let admin: Redis;
  let services: Services;

  before(async () => {
    redis = await startRedis();
    admin = new Redis(redis.url);
    const dir = tempDir("commodore-bus-");
    services = await startServices({
      config: configSchema.parse({
        redis: { url: redis.url },
        agent: { local: true },
        http: { listen: "127.0.0.1:0", status: { enabled: true } },
        roles: { admin: { grants: [{ command: "*" }] } },
        principals: [{ id: "root", roles: ["admin"], http: { tokenSha256: hashToken(TOKEN) } }],
      }),
      stateDir: join(dir, "state"),
      env: {},
      logger: silentLogger,
    });
  });

  after(async () => {
    await services?.stop();
    admin?.disconnect();
    await redis?.stop();
  });

  test("a running bot with a local agent and the status page holds one subscriber connection", async () => {
    const base = services.httpUrl ?? "";
    const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    // The controller subscribes for the replies, the local agent to requests.
    const res = await fetch(`${base}/fleet`, {
      method: "POST",
      headers,
      body: JSON.stringify({ args: ["ping"] }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const { jobId } = (await res.json()) as { jobId: string };
    // A status-page stream subscribes to the job's live events.
    const stream = await fetch(`${base}/ui/jobs/${jobId}/events`, { headers });
    assert.equal(stream.status, 200);
    await stream.text();

    const clients = await botClients(admin);
    assert.equal(
      clients.filter(subscriber).length,
      1,
      `one subscriber connection for the bot's login: ${JSON.stringify(clients)}`,
    );
    assert.equal(
      clients.length,
      2,
      `the command connection and the bus's subscriber only: ${JSON.stringify(clients)}`,
    );
  });
});
