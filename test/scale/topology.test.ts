import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { configSchema } from "../../config/schema.ts";
import { OptionsError } from "../../lib/errors.ts";
import { describeTopology } from "../../lib/redis/topology.ts";
import { parseTopologyUrl } from "../../lib/redis/url.ts";

describe("topology URLs", () => {
  test("single, sentinel and cluster forms", () => {
    assert.deepEqual(parseTopologyUrl("redis://h:6379"), {
      topology: { mode: "single" },
      url: "redis://h:6379",
    });
    assert.deepEqual(parseTopologyUrl("sentinel://a:26379,b:26380/mymaster"), {
      topology: {
        mode: "sentinel",
        sentinel: {
          name: "mymaster",
          nodes: [
            { host: "a", port: 26379 },
            { host: "b", port: 26380 },
          ],
        },
      },
    });
    const c = parseTopologyUrl("cluster://ops:s3cret@10.0.0.1:7000,[::1]:7001");
    assert.equal(c.password, "s3cret");
    assert.deepEqual(c.topology, {
      mode: "cluster",
      cluster: {
        nodes: [
          { host: "10.0.0.1", port: 7000 },
          { host: "::1", port: 7001 },
        ],
      },
      username: "ops",
      passwordEnv: "COMMODORE_REDIS_URL_PASSWORD",
    });
  });

  test("describeTopology round-trips without credentials", () => {
    const parsed = parseTopologyUrl("sentinel://u:pw@a:1,b:2/m");
    const shown = describeTopology(parsed);
    assert.equal(shown, "sentinel://a:1,b:2/m");
    assert.deepEqual(parseTopologyUrl(shown).topology.sentinel, parsed.topology.sentinel);
  });

  test("bad URLs name what was expected and never echo the password", () => {
    for (const bad of ["sentinel://a:1", "cluster://a:1/x", "sentinel://u:pw@a/m", "http://x"]) {
      assert.throws(
        () => parseTopologyUrl(bad),
        (err: unknown) => err instanceof OptionsError && !err.message.includes("pw@"),
        bad,
      );
    }
  });
});

describe("redis section of the configuration", () => {
  const issues = (redis: unknown) => {
    const r = configSchema.safeParse({ redis });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };

  test("each mode needs its own settings and no stray ones", () => {
    assert.deepEqual(issues({ mode: "cluster", cluster: { nodes: [{ host: "a", port: 1 }] } }), []);
    assert.match(issues({ mode: "sentinel" }).join(), /redis\.sentinel: sentinel settings/);
    assert.match(
      issues({
        mode: "cluster",
        url: "redis://a:1",
        cluster: { nodes: [{ host: "a", port: 1 }] },
      }).join(),
      /redis\.url: no url when mode is cluster/,
    );
    assert.match(
      issues({ sentinel: { name: "m", nodes: [{ host: "a", port: 1 }] } }).join(),
      /redis\.mode: mode: sentinel/,
    );
    assert.match(
      issues({ lease: { ttlMs: 2000, renewMs: 1500 } }).join(),
      /renewMs less than half/,
    );
  });

  test("defaults: single mode and a 10 s lease renewed every 3 s", () => {
    const c = configSchema.parse({});
    assert.equal(c.redis.mode, "single");
    assert.deepEqual(c.redis.lease, { ttlMs: 10_000, renewMs: 3_000 });
  });
});
