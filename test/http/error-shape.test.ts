/**
 * Every HTTP error has the JSON error shape `{"error": {"code", "message"}}`, including the
 * ones answered before any route runs (Node's parser: 431, 400, 408) and the refusals of
 * event streams, sent as raw bytes over a socket to the real server where a client library
 * would refuse to send them.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { Hono } from "hono";
import type { Redis } from "ioredis";
import { closeRedis, connectRedis, waitReady } from "../../lib/redis.ts";
import { silentLogger } from "../../lib/log.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import type { HttpEnv } from "../../transports/http/context.ts";
import { MAX_HEADER_BYTES, startHttpServer } from "../../transports/http/server.ts";
import { hashToken } from "../../transports/http/tokens.ts";
import { startRedis, type TestRedis } from "../harness/redis-server.ts";
import { startTestStatus, type TestStatus } from "../harness/status.ts";

const CONFIG = {
  roles: {
    reader: { grants: [{ command: "job" }, { command: "jobs" }] },
    viewer: { grants: [{ command: "nodes" }] },
  },
  principals: [
    { id: "ci", roles: ["reader"], http: { tokenSha256: hashToken("ci-token") } },
    { id: "eve", roles: ["viewer"], http: { tokenSha256: hashToken("eve-token") } },
  ],
};
const JOB_ID = "j00000000e404";
/** A token-like value that must never come back in an answer. */
const SECRET = "s3cr3t-" + "x".repeat(100 * 1024);
/** Longest a raw exchange may take before the test fails. */
const RAW_TIMEOUT_MS = 5_000;

/** A response read off a raw socket. */
interface RawAnswer {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
  readonly raw: string;
}

/** Writes `bytes` to `port` and reads until the server closes the connection. */
function rawExchange(port: number, bytes: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let raw = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${RAW_TIMEOUT_MS} ms; got ${JSON.stringify(raw)}`));
    }, RAW_TIMEOUT_MS);
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (raw += d));
    // The server may reset the connection once it answered; what arrived counts.
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      const [head = "", ...rest] = raw.split("\r\n\r\n");
      const [line = "", ...fields] = head.split("\r\n");
      const headers = new Map(
        fields.map((f) => {
          const colon = f.indexOf(":");
          return [f.slice(0, colon).trim().toLowerCase(), f.slice(colon + 1).trim()] as const;
        }),
      );
      resolve({ status: Number(line.split(" ")[1]), headers, body: rest.join("\r\n\r\n"), raw });
    });
    socket.on("connect", () => {
      if (bytes.length > 0) socket.write(bytes);
    });
  });
}

/** Asserts the JSON error shape with `code`, and returns the error's message. */
function assertErrorShape(body: string, code: string, contentType: string | null | undefined) {
  assert.match(contentType ?? "", /^application\/json/);
  const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
  assert.equal(parsed.error?.code, code, body);
  assert.equal(typeof parsed.error?.message, "string", body);
  assert.deepEqual(Object.keys(parsed).sort(), ["error"]);
  return String(parsed.error?.message);
}

describe("HTTP errors keep one shape", () => {
  let server: TestRedis;
  let redis: Redis;
  let ui: TestStatus;
  let port: number;
  const rejected = (reason: string) =>
    ui.bot.metrics.counter("commodore_http_rejected_total", "").get({ reason });

  before(async () => {
    server = await startRedis();
    redis = connectRedis({ url: server.url, name: "test-error-shape", logger: silentLogger });
    await waitReady(redis, server.url);
    ui = await startTestStatus(CONFIG, redis, undefined);
    port = ui.server.port;
    await ui.bot.jobs.create({
      id: JOB_ID,
      text: "jobs",
      command: "jobs",
      principal: "ci",
      transport: "http",
      state: "succeeded",
      createdAt: new Date().toISOString(),
    });
  });
  after(async () => {
    await ui.close();
    await closeRedis(redis);
    await server.stop(true);
  });

  test("a 100 KB Authorization header gets 431 E_HEADERS_TOO_LARGE, nothing of it echoed", async () => {
    const before = rejected("headers_too_large");
    const res = await rawExchange(
      port,
      `GET /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${SECRET}\r\n\r\n`,
    );
    assert.equal(res.status, 431, res.raw.slice(0, 200));
    assert.equal(res.headers.get("connection"), "close");
    assert.equal(Number(res.headers.get("content-length")), Buffer.byteLength(res.body));
    const message = assertErrorShape(
      res.body,
      "E_HEADERS_TOO_LARGE",
      res.headers.get("content-type"),
    );
    assert.match(message, new RegExp(String(MAX_HEADER_BYTES)));
    assert.ok(!res.raw.includes("s3cr3t") && !res.raw.includes("xxxx"), "no header echoed");
    assert.equal(rejected("headers_too_large"), before + 1, "counted once");
  });

  test("a garbage request line gets 400 E_MALFORMED_REQUEST", async () => {
    const before = rejected("malformed_request");
    const res = await rawExchange(port, "\x16\x03\x01 not http at all\r\n\r\n");
    assert.equal(res.status, 400, res.raw.slice(0, 200));
    assert.equal(res.headers.get("connection"), "close");
    assertErrorShape(res.body, "E_MALFORMED_REQUEST", res.headers.get("content-type"));
    assert.ok(!res.raw.includes("not http"), "the request is not echoed");
    assert.equal(rejected("malformed_request"), before + 1);
  });

  test("a broken header line and a bad request target are 400 JSON too", async () => {
    const header = await rawExchange(
      port,
      `GET /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization Bearer ${"y".repeat(64)}\r\n\r\n`,
    );
    assert.equal(header.status, 400, header.raw.slice(0, 200));
    assertErrorShape(header.body, "E_MALFORMED_REQUEST", header.headers.get("content-type"));
    assert.ok(!header.raw.includes("yyyy"));
    // Node's parser takes it; @hono/node-server cannot make a URL of it.
    const target = await rawExchange(
      port,
      "GET /jobs\\x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    assert.equal(target.status, 400, target.raw.slice(0, 200));
    assertErrorShape(target.body, "E_MALFORMED_REQUEST", target.headers.get("content-type"));
  });

  test("a second, malformed request on a kept-alive connection gets 400 JSON after the first answer", async () => {
    const res = await rawExchange(
      port,
      "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nBREW /pot HTCPCP/1.0\r\n\r\n",
    );
    assert.equal(res.status, 200, res.raw.slice(0, 200));
    const second = res.raw.slice(res.raw.indexOf("HTTP/1.1", 1));
    assert.match(second, /^HTTP\/1\.1 400 /);
    assert.match(second, /"code":"E_MALFORMED_REQUEST"/);
  });

  test("a form body that does not parse is 400 E_MALFORMED_REQUEST, not 500", async () => {
    const res = await fetch(`${ui.base}/ui/login`, {
      method: "POST",
      headers: { "content-type": "multipart/form-data; boundary=x" },
      body: "not a multipart body",
    });
    assert.equal(res.status, 400);
    assertErrorShape(await res.text(), "E_MALFORMED_REQUEST", res.headers.get("content-type"));
  });

  for (const path of [`/jobs/${JOB_ID}/events`, `/ui/jobs/${JOB_ID}/events`]) {
    test(`${path} without a token: 401 E_UNAUTHORIZED, not a page`, async () => {
      const res = await fetch(ui.base + path);
      assert.equal(res.status, 401);
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer /);
      assertErrorShape(await res.text(), "E_UNAUTHORIZED", res.headers.get("content-type"));
      const forged = await fetch(ui.base + path, { headers: { authorization: "Bearer nope" } });
      assert.equal(forged.status, 401);
      assertErrorShape(await forged.text(), "E_UNAUTHORIZED", forged.headers.get("content-type"));
    });

    test(`${path} of an unknown job: 404 E_NOT_FOUND; of another's job without the grant: 403`, async () => {
      const unknown = path.replace(JOB_ID, "j0000000fffff");
      const res = await fetch(ui.base + unknown, { headers: { authorization: "Bearer ci-token" } });
      assert.equal(res.status, 404);
      assertErrorShape(await res.text(), "E_NOT_FOUND", res.headers.get("content-type"));
      const bad = await fetch(ui.base + path.replace(JOB_ID, "not-a-job"), {
        headers: { authorization: "Bearer ci-token" },
      });
      assert.equal(bad.status, 404);
      assertErrorShape(await bad.text(), "E_NOT_FOUND", bad.headers.get("content-type"));
      const denied = await fetch(ui.base + path, {
        headers: { authorization: "Bearer eve-token" },
      });
      assert.equal(denied.status, 403);
      assertErrorShape(
        await denied.text(),
        "E_PERMISSION_DENIED",
        denied.headers.get("content-type"),
      );
    });
  }

  test("the stream still opens for a caller who may read the job", async () => {
    const res = await fetch(`${ui.base}/jobs/${JOB_ID}/events`, {
      headers: { authorization: "Bearer ci-token" },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    await res.body?.cancel();
  });

  test("unknown routes and static files answer 404 JSON; status pages keep their HTML page", async () => {
    const route = await fetch(`${ui.base}/no/such/route`, {
      headers: { authorization: "Bearer ci-token" },
    });
    assert.equal(route.status, 404);
    assertErrorShape(await route.text(), "E_NOT_FOUND", route.headers.get("content-type"));
    const file = await fetch(`${ui.base}/ui/static/nope.js`);
    assert.equal(file.status, 404);
    assertErrorShape(await file.text(), "E_NOT_FOUND", file.headers.get("content-type"));
    const anonymous = await fetch(`${ui.base}/no/such/route`);
    assert.equal(anonymous.status, 401);
    assertErrorShape(
      await anonymous.text(),
      "E_UNAUTHORIZED",
      anonymous.headers.get("content-type"),
    );
    const page = await fetch(`${ui.base}/ui/jobs/${JOB_ID}`);
    assert.equal(page.status, 401);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
  });
});

describe("request timeouts", () => {
  test("a request whose headers never finish gets 408 E_REQUEST_TIMEOUT and is closed", async () => {
    const metrics = new MetricsRegistry();
    const app = new Hono<HttpEnv>();
    app.get("/", (c) => c.text("ok"));
    const server = await startHttpServer(
      app,
      { host: "127.0.0.1", port: 0 },
      { metrics, headersTimeoutMs: 200, requestTimeoutMs: 200, timeoutCheckIntervalMs: 50 },
    );
    try {
      const started = Date.now();
      const res = await rawExchange(server.port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1");
      assert.equal(res.status, 408, res.raw.slice(0, 200));
      assert.equal(res.headers.get("connection"), "close");
      assertErrorShape(res.body, "E_REQUEST_TIMEOUT", res.headers.get("content-type"));
      assert.ok(Date.now() - started < RAW_TIMEOUT_MS);
      assert.equal(
        metrics.counter("commodore_http_rejected_total", "").get({ reason: "request_timeout" }),
        1,
      );
    } finally {
      await server.close();
    }
  });
});
