/**
 * The voice webhook over a real HTTP socket: every verification rule, with fixtures signed by
 * a test CA, and a good request answered with the bot's result.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request } from "node:http";
import { makeTestPki } from "../harness/test-ca.ts";
import type { TestPki } from "../harness/test-ca.ts";
import { CERT_URLS, envelope, GUEST_USER, startWebhook } from "./fixtures.ts";
import type { Webhook } from "./fixtures.ts";

const NOW = Date.parse("2030-01-01T12:00:00Z");
const uptime = { name: "GetUptime", slots: { role: { name: "role", value: "web" } } };

describe("voice webhook verification", () => {
  let pki: TestPki;
  let hook: Webhook;
  before(async () => {
    pki = makeTestPki(NOW);
    hook = await startWebhook(pki, NOW);
  });
  after(async () => await hook.close());

  const expectRejected = async (
    code: string,
    body: string,
    headers: Record<string, string> = {},
  ) => {
    const before = hook.bot.invocations.length;
    const res = await hook.post(body, headers);
    assert.equal(res.status, 400, JSON.stringify(res.json));
    assert.equal(res.json["error"], code);
    assert.equal(hook.bot.invocations.length, before, "nothing may run");
    const line = hook.logs.findLast((l) => l.includes("voice request rejected")) ?? "";
    assert.match(line, new RegExp(code));
    assert.doesNotMatch(line, /amzn1\.ask\.account|userId/, "no user ids in the log");
    return res;
  };

  test("a good request runs the command and speaks the aggregate", async () => {
    const res = await hook.post(JSON.stringify(envelope(NOW, { intent: uptime })));
    assert.equal(res.status, 200);
    const response = res.json["response"] as Record<string, { text?: string; content?: string }>;
    assert.equal(
      response["outputSpeech"]?.text,
      "3 of 3 web servers answered; the highest load is 0.42 on web02.",
    );
    assert.match(response["card"]?.content ?? "", /web01\.example\.com: ok/);
    assert.equal(hook.bot.invocations.at(-1)?.text, "fleet uptime where role=web");
    assert.equal(hook.bot.invocations.at(-1)?.transport, "voice");
  });

  test("the certificate is fetched once and cached", async () => {
    await hook.post(JSON.stringify(envelope(NOW, { type: "LaunchRequest" })));
    assert.deepEqual(
      hook.fetched.filter((u) => u === CERT_URLS.good),
      [CERT_URLS.good],
    );
  });

  test("a tampered body is rejected", async () => {
    const body = JSON.stringify(envelope(NOW, { intent: uptime }));
    await expectRejected("E_VOICE_SIGNATURE", body.replace('"web"', '"db"'), {
      "Signature-256": pki.sign(body),
    });
  });

  test("missing signature headers are rejected", async () => {
    const res = await fetch(hook.url, { method: "POST", body: JSON.stringify(envelope(NOW)) });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as Record<string, unknown>)["error"], "E_VOICE_HEADERS");
  });

  for (const [what, url] of [
    ["http", "http://s3.amazonaws.com/echo.api/echo-api-cert.pem"],
    ["another host", "https://notamazon.com/echo.api/echo-api-cert.pem"],
    ["a dot-segment escape", "https://s3.amazonaws.com/echo.api/../x"],
    ["port 8443", "https://s3.amazonaws.com:8443/echo.api/echo-api-cert.pem"],
  ]) {
    test(`a certificate URL with ${what} is rejected before any fetch`, async () => {
      const fetchedBefore = hook.fetched.length;
      await expectRejected("E_VOICE_CERT_URL", JSON.stringify(envelope(NOW)), {
        SignatureCertChainUrl: url ?? "",
      });
      assert.equal(hook.fetched.length, fetchedBefore);
    });
  }

  test("an expired certificate is rejected", async () => {
    await expectRejected("E_VOICE_CERT_DATES", JSON.stringify(envelope(NOW)), {
      SignatureCertChainUrl: CERT_URLS.expired,
    });
  });

  test("a certificate without echo-api.amazon.com is rejected", async () => {
    await expectRejected("E_VOICE_CERT_SAN", JSON.stringify(envelope(NOW)), {
      SignatureCertChainUrl: CERT_URLS.wrongSan,
    });
  });

  test("a chain to an untrusted root is rejected", async () => {
    await expectRejected("E_VOICE_CERT_CHAIN", JSON.stringify(envelope(NOW)), {
      SignatureCertChainUrl: CERT_URLS.untrusted,
    });
  });

  for (const [what, offset] of [
    ["151 s in the past", -151_000],
    ["151 s in the future", 151_000],
  ] as const) {
    test(`a timestamp ${what} is rejected`, async () => {
      const timestamp = new Date(NOW + offset).toISOString();
      const res = await expectRejected(
        "E_VOICE_TIMESTAMP",
        JSON.stringify(envelope(NOW, { intent: uptime, timestamp })),
      );
      assert.match(String(res.json["message"]), offset < 0 ? /past/ : /future/);
    });
  }

  test("a timestamp 150 s away is accepted", async () => {
    for (const offset of [-150_000, 150_000]) {
      const timestamp = new Date(NOW + offset).toISOString();
      const res = await hook.post(JSON.stringify(envelope(NOW, { timestamp })));
      assert.equal(res.status, 200);
    }
  });

  test("a wrong application id is rejected", async () => {
    await expectRejected(
      "E_VOICE_APPLICATION",
      JSON.stringify(envelope(NOW, { intent: uptime, appId: "amzn1.ask.skill.other" })),
    );
  });

  test("a signed but malformed envelope gets 400 naming the field", async () => {
    const body = JSON.stringify({
      ...envelope(NOW),
      request: { type: "IntentRequest", requestId: "r", timestamp: new Date(NOW).toISOString() },
    });
    const res = await expectRejected("E_VOICE_REQUEST", body);
    assert.match(String(res.json["message"]), /request\.intent/);
  });

  test("an oversized body is refused before verification", async () => {
    // Headers only, on its own connection: the server answers from Content-Length alone.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(hook.url, {
        method: "POST",
        agent: false,
        headers: { "content-length": String(200 * 1024) },
      });
      req.on("response", (res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on("error", reject);
      req.flushHeaders();
    });
    assert.equal(status, 413);
    assert.match(hook.metrics.render(), /outcome="E_VOICE_TOO_LARGE"\} 1/);
  });

  test("built-ins answer without running anything", async () => {
    const ran = hook.bot.invocations.length;
    const speech = async (parts: Parameters<typeof envelope>[1]) => {
      const res = await hook.post(JSON.stringify(envelope(NOW, parts)));
      assert.equal(res.status, 200);
      return res.json["response"] as {
        outputSpeech?: { text: string };
        shouldEndSession?: boolean;
      };
    };
    const launch = await speech({ type: "LaunchRequest" });
    assert.match(launch.outputSpeech?.text ?? "", /Commodore here/);
    assert.equal(launch.shouldEndSession, false);
    const help = await speech({ intent: { name: "AMAZON.HelpIntent" } });
    assert.match(
      help.outputSpeech?.text ?? "",
      /tell the load of a server group; restart a service; RebootServers/,
    );
    for (const name of ["AMAZON.StopIntent", "AMAZON.CancelIntent"]) {
      const stop = await speech({ intent: { name } });
      assert.equal(stop.shouldEndSession, true);
    }
    const fallback = await speech({ intent: { name: "AMAZON.FallbackIntent" } });
    assert.match(fallback.outputSpeech?.text ?? "", /can't help/);
    const ended = await speech({ type: "SessionEndedRequest" });
    assert.deepEqual(ended, {});
    assert.equal(hook.bot.invocations.length, ran);
  });

  test("a slot outside the allow-list is refused and nothing runs", async () => {
    const ran = hook.bot.invocations.length;
    const intent = {
      name: "GetUptime",
      slots: { role: { name: "role", value: "web where hostname=*" } },
    };
    const res = await hook.post(JSON.stringify(envelope(NOW, { intent })));
    const response = res.json["response"] as { outputSpeech?: { text: string } };
    assert.equal(response.outputSpeech?.text, "I can't use that role. I know web or db.");
    assert.equal(hook.bot.invocations.length, ran);
  });

  test("an unknown account cannot run commands", async () => {
    const ran = hook.bot.invocations.length;
    const res = await hook.post(
      JSON.stringify(envelope(NOW, { intent: uptime, userId: "amzn1.ask.account.NOBODY" })),
    );
    assert.match(
      (res.json["response"] as { outputSpeech: { text: string } }).outputSpeech.text,
      /don't know this account/,
    );
    assert.equal(hook.bot.invocations.length, ran);
  });

  test("the read-only voice principal runs read commands", async () => {
    const res = await hook.post(
      JSON.stringify(envelope(NOW, { intent: uptime, userId: GUEST_USER })),
    );
    assert.equal(res.status, 200);
    assert.equal(hook.bot.invocations.at(-1)?.principal.id, "voice");
  });

  test("rejections are counted by code", () => {
    const text = hook.metrics.render();
    assert.match(text, /commodore_voice_requests_total\{outcome="E_VOICE_CERT_URL"\} 4/);
    assert.match(text, /commodore_voice_requests_total\{outcome="E_VOICE_TIMESTAMP"\} 2/);
  });
});
