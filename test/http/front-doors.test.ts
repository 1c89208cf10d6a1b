/**
 * The front doors of the embedded default (`npm start`: loopback callers without a token may
 * run read commands) over a real socket and real Redis: cross-site simple requests get 415 and
 * run nothing, a DNS-rebinding `Host` gets 421 on the API and the status page, cross-origin
 * state-changing requests get 403 while curl-style requests work, and the `http.allowedHosts`,
 * `http.publicUrl` and wildcard-listen rules.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import { embeddedRawConfig } from "../../config/embedded.ts";
import { configSchema } from "../../config/schema.ts";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import { silentLogger } from "../../lib/log.ts";
import { fleetDouble } from "../harness/fleet-double.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { errorCode, send, startApp, type AppOptions, type TestApp } from "./front-door-apps.ts";

const NODES = [
  { hostname: "www1", facts: { role: "web" } },
  { hostname: "db1", facts: { role: "db" } },
];
const FLEET_BODY = JSON.stringify({ args: ["uptime"] });

describe("front doors of the embedded default over a real socket", () => {
  let server: TestRedis;
  let redis: Redis;
  let app: TestApp;
  const double = fleetDouble(NODES);

  before(async () => {
    server = await startRedis();
    redis = connectRedis({ url: server.url, name: "test-front-doors", logger: silentLogger });
    await waitReady(redis, server.url);
    app = await startApp({
      redis,
      config: embeddedRawConfig(),
      fleet: double.fleet,
      anonymousFrom: ["127.0.0.1", "::1"],
      status: true,
    });
  });
  after(async () => {
    await app.close();
    await closeRedis(redis);
    await server.stop();
  });

  /** Runs `fn` and asserts that neither the fleet nor the audit log saw anything. */
  const nothingRuns = async (fn: () => Promise<void>) => {
    const requests = double.requests.length;
    const audit = readFileSync(app.bot.auditFile, { encoding: "utf8", flag: "a+" });
    await fn();
    assert.equal(double.requests.length, requests, "no fleet request ran");
    assert.equal(
      readFileSync(app.bot.auditFile, { encoding: "utf8", flag: "a+" }),
      audit,
      "no command reached the bot",
    );
  };

  test("curl with application/json runs a read command without a token", async () => {
    const r = await send(
      app.port,
      "POST",
      "/fleet",
      { "content-type": "application/json" },
      FLEET_BODY,
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json["count"], 2);
    for (const type of ["application/json; charset=utf-8", "application/json;charset=UTF-8"]) {
      const ok = await send(app.port, "POST", "/fleet", { "content-type": type }, FLEET_BODY);
      assert.equal(ok.status, 200, `${type}: ${ok.text}`);
    }
  });

  test("CSRF: text/plain, form and multipart bodies get 415 and nothing runs", async () => {
    await nothingRuns(async () => {
      for (const [path, type, body] of [
        ["/fleet", "text/plain", FLEET_BODY],
        ["/fleet", "text/plain;charset=UTF-8", FLEET_BODY],
        ["/fleet", "application/x-www-form-urlencoded", `${FLEET_BODY}=`],
        ["/fleet", "multipart/form-data; boundary=x", `--x\r\n\r\n${FLEET_BODY}\r\n--x--\r\n`],
        ["/commands", "text/plain", JSON.stringify({ command: "fleet uptime" })],
        ["/commands", "application/x-www-form-urlencoded", "command=fleet+uptime"],
        ["/fleet", "application/json; charset=latin1", FLEET_BODY],
      ] as const) {
        const r = await send(app.port, "POST", path, { "content-type": type }, body);
        assert.equal(r.status, 415, `${path} ${type}: ${r.text}`);
        assert.equal(errorCode(r), "E_UNSUPPORTED_MEDIA_TYPE");
        const error = r.json["error"] as { message: string; hint: string };
        assert.match(error.message, /^Content-Type must be application\/json, found "/);
        assert.match(error.hint, /Content-Type: application\/json/);
      }
      const none = await send(app.port, "POST", "/fleet", {}, FLEET_BODY);
      assert.equal(none.status, 415);
      assert.match(
        (none.json["error"] as { message: string }).message,
        /found no Content-Type header/,
      );
    });
    assert.match(
      await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text(),
      /commodore_http_rejected_total\{reason="media_type"\} 8/,
    );
  });

  test("DNS rebinding: a foreign Host gets 421 on /nodes, /jobs and /ui", async () => {
    for (const path of ["/nodes", "/jobs", "/ui", "/ui/jobs", "/nodes/pending"]) {
      const r = await send(app.port, "GET", path, { host: `rebind.example.com:${app.port}` });
      assert.equal(r.status, 421, `${path}: ${r.text}`);
      assert.equal(errorCode(r), "E_UNKNOWN_HOST");
      assert.match(r.text, /"Host \\"rebind\.example\.com:\d+\\" is not a name this server/);
      assert.doesNotMatch(r.text, /www1|db1/, "no fleet data");
    }
    const post = await send(
      app.port,
      "POST",
      "/fleet",
      { host: "rebind.example.com", "content-type": "application/json" },
      FLEET_BODY,
    );
    assert.equal(post.status, 421);
    for (const host of [
      `127.0.0.1:${app.port}`,
      `localhost:${app.port}`,
      `[::1]:${app.port}`,
      "localhost",
    ]) {
      const r = await send(app.port, "GET", "/nodes", { host });
      assert.equal(r.status, 200, `${host}: ${r.text}`);
      assert.ok(((r.json["nodes"] as unknown[] | undefined)?.length ?? 0) > 0);
    }
    const ui = await send(app.port, "GET", "/ui", { host: `localhost:${app.port}` });
    assert.equal(ui.status, 200);
    for (const host of ["localhost.rebind.example", "127.0.0.1.nip.io", "127.0.0.1.rebind.example"])
      assert.equal((await send(app.port, "GET", "/jobs", { host })).status, 421, host);
  });

  test("cross-origin state-changing requests get 403; curl-style requests work", async () => {
    const json = { "content-type": "application/json" };
    await nothingRuns(async () => {
      for (const extra of [
        { origin: "https://evil.example" },
        { origin: "null" },
        { origin: `http://127.0.0.1:${app.port + 1}` },
        { origin: `http://localhost:${app.port}` },
        { "sec-fetch-site": "cross-site" },
        { "sec-fetch-site": "same-site", origin: `http://127.0.0.1:${app.port}` },
      ]) {
        const r = await send(app.port, "POST", "/fleet", { ...json, ...extra }, FLEET_BODY);
        assert.equal(r.status, 403, `${JSON.stringify(extra)}: ${r.text}`);
        assert.equal(errorCode(r), "E_CROSS_ORIGIN");
      }
      const login = await send(
        app.port,
        "POST",
        "/ui/login",
        { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" },
        "token=x&next=/ui",
      );
      assert.equal(login.status, 403);
      assert.equal(errorCode(login), "E_CROSS_ORIGIN");
      const logout = await send(app.port, "POST", "/ui/logout", {
        "sec-fetch-site": "cross-site",
      });
      assert.equal(logout.status, 403);
    });
    const same = await send(
      app.port,
      "POST",
      "/fleet",
      { ...json, origin: `http://127.0.0.1:${app.port}`, "sec-fetch-site": "same-origin" },
      FLEET_BODY,
    );
    assert.equal(same.status, 200, same.text);
    const viaName = await send(
      app.port,
      "POST",
      "/fleet",
      { ...json, host: `localhost:${app.port}`, origin: `http://localhost:${app.port}` },
      FLEET_BODY,
    );
    assert.equal(viaName.status, 200, viaName.text);
    const curl = await send(app.port, "POST", "/fleet", json, FLEET_BODY);
    assert.equal(curl.status, 200, "no Origin: not a browser");
    const reads = await send(app.port, "GET", "/nodes", { origin: "https://evil.example" });
    assert.equal(reads.status, 200, "GET is not state-changing (CORS keeps the answer unread)");
  });
});

describe("allowed hosts, publicUrl and wildcard listen addresses", () => {
  let server: TestRedis;
  let redis: Redis;
  const apps: TestApp[] = [];
  const double = fleetDouble(NODES);
  const config = {
    roles: { reader: { grants: [{ command: "nodes" }, { command: "fleet" }] } },
    bot: { defaultRoles: ["reader"] },
  };

  before(async () => {
    server = await startRedis();
    redis = connectRedis({ url: server.url, name: "test-hosts", logger: silentLogger });
    await waitReady(redis, server.url);
  });
  after(async () => {
    for (const a of apps) await a.close();
    await closeRedis(redis);
    await server.stop();
  });

  const start = async (hosts: NonNullable<AppOptions["hosts"]>) => {
    const app = await startApp({
      redis,
      config,
      fleet: double.fleet,
      anonymousFrom: ["127.0.0.1"],
      hosts,
    });
    apps.push(app);
    return app;
  };

  test("publicUrl and allowedHosts names (and .domain entries) are served, others get 421", async () => {
    const app = await start({
      publicUrl: "https://commodore.example.org/",
      allowedHosts: ["ops.example.org", ".corp.example"],
    });
    const status = async (host: string) => (await send(app.port, "GET", "/nodes", { host })).status;
    for (const host of [
      "commodore.example.org",
      "commodore.example.org:443",
      "ops.example.org:8080",
      "corp.example",
      "a.b.corp.example",
      "10.1.2.3:8080",
    ])
      assert.equal(await status(host), 200, host);
    for (const host of ["example.org", "xcorp.example", "ops.example.org.evil", "rebind.example"])
      assert.equal(await status(host), 421, host);
  });

  test("a proxy rewriting Host: the publicUrl origin is same-origin", async () => {
    const app = await start({ publicUrl: "https://commodore.example.org", allowedHosts: [] });
    const post = (origin: string) =>
      send(app.port, "POST", "/fleet", { "content-type": "application/json", origin }, FLEET_BODY);
    assert.equal((await post("https://commodore.example.org")).status, 200);
    assert.equal((await post("http://commodore.example.org")).status, 403, "other scheme");
    assert.equal((await post("https://commodore.example.org:8443")).status, 403, "other port");
  });

  test("wildcard listen without names: IP addresses and localhost only, with a warning", async () => {
    const app = await start({ listenHost: "0.0.0.0", allowedHosts: [] });
    assert.ok(
      app.logs.some((l) => /listening on every interface/.test(l) && /allowedHosts/.test(l)),
      app.logs.join("\n"),
    );
    for (const host of ["192.0.2.7:8080", "[2001:db8::1]:8080", "localhost:9000"])
      assert.equal((await send(app.port, "GET", "/nodes", { host })).status, 200, host);
    const named = await send(app.port, "GET", "/nodes", { host: "myhost.lan:8080" });
    assert.equal(named.status, 421);
    assert.match(String((named.json["error"] as { hint: string }).hint), /http\.allowedHosts/);
  });

  test("allowedHosts * turns the check off, with a warning", async () => {
    const app = await start({ listenHost: "0.0.0.0", allowedHosts: ["*"] });
    assert.ok(app.logs.some((l) => /DNS rebinding protection is off/.test(l)));
    assert.equal((await send(app.port, "GET", "/nodes", { host: "anything.example" })).status, 200);
  });

  test("http.allowedHosts is validated like the rest of the configuration", () => {
    const parse = (allowedHosts: unknown) =>
      configSchema.safeParse({ http: { allowedHosts } }).success;
    assert.equal(parse(["ops.example.org", ".example.org", "*", "10.0.0.5"]), true);
    for (const bad of ["ops.example.org:8443", "http://ops.example.org", "*.example.org", "a b"])
      assert.equal(parse([bad]), false, bad);
    assert.deepEqual(configSchema.parse({}).http.allowedHosts, []);
  });
});
