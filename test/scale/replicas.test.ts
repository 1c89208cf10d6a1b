import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { hashToken } from "../../transports/http/tokens.ts";
import { silentLogger } from "../../lib/log.ts";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { startTestHttp, type TestHttp } from "../harness/http.ts";

const CONFIG = {
  roles: { admin: { grants: [{ command: "*" }] } },
  principals: [{ id: "root", roles: ["admin"], http: { tokenSha256: hashToken("root-token") } }],
};
const token = "root-token";

describe("two bot replicas against one Redis", () => {
  let fleet: TestFleet;
  const conns: Redis[] = [];
  const replicas: TestHttp[] = [];

  before(async () => {
    fleet = await startFleet([
      { hostname: "www1", facts: { role: "web" } },
      { hostname: "db1", facts: { role: "db" } },
    ]);
    for (const name of ["replica-a", "replica-b"]) {
      const redis = connectRedis({ url: fleet.redis.url, name, logger: silentLogger });
      await waitReady(redis, fleet.redis.url);
      conns.push(redis);
      replicas.push(await startTestHttp(CONFIG, redis, fleet.controller()));
    }
  });
  after(async () => {
    for (const r of replicas) await r.close();
    for (const c of conns) await closeRedis(c);
    await fleet.stop();
  });

  test("every replica answers the API and shows jobs the other one ran", async () => {
    const ids: string[] = [];
    for (const r of replicas) {
      const res = await r.call("POST", "/fleet", { token, body: { args: ["ping"] } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json["count"], 2);
      ids.push(String(res.json["jobId"]));
    }
    for (const r of replicas)
      for (const id of ids) {
        const job = await r.call("GET", `/jobs/${id}`, { token });
        assert.equal(job.status, 200, job.text);
        assert.equal((job.json["job"] as { state: string }).state, "succeeded");
      }
    for (const r of replicas) {
      const list = await r.call("GET", "/jobs", { token });
      const listed = (list.json["jobs"] as Array<{ id: string }>).map((j) => j.id);
      assert.ok(
        ids.every((id) => listed.includes(id)),
        list.text,
      );
    }
  });
});
