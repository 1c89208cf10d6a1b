/** Spoken sentences and cards for results and bot events. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { answerFor } from "../../transports/voice/answer.ts";
import { fleetSpeech, resultSpeech } from "../../transports/voice/speech.ts";
import { fleetResult, host } from "./fixtures.ts";

describe("speech", () => {
  test("uptime: answered count and the highest load", () => {
    const r = fleetResult("uptime", { role: "web" }, [
      host("www01.example.com", "ok", "0.15"),
      host("www02.example.com", "ok", "0.42"),
      host("www03.example.com", "ok", "0.07"),
    ]);
    const spoken = fleetSpeech(r);
    assert.equal(spoken.speech, "3 of 3 web servers answered; the highest load is 0.42 on www02.");
    assert.equal(spoken.cardTitle, "fleet uptime where role=web");
    assert.equal(spoken.cardLines.length, 3);
    assert.match(spoken.cardLines[1] ?? "", /^www02\.example\.com: ok — up 5 days/);
  });

  test("ping: plain count without a role", () => {
    const hosts = ["a", "b", "c", "d", "e"].map((h) => host(`${h}.example.com`, "ok"));
    assert.equal(fleetSpeech(fleetResult("ping", {}, hosts)).speech, "5 of 5 servers answered.");
    assert.equal(
      fleetSpeech(fleetResult("ping", { role: "db" }, [host("db1", "ok")])).speech,
      "1 of 1 db server answered.",
    );
  });

  test("failures and silent hosts are named, long lists summarised", () => {
    const r = fleetResult("ping", {}, [
      host("www01.example.com", "ok"),
      host("www02.example.com", "ok"),
      host("www03.example.com", "failed"),
      host("www04.example.com", "failed"),
      host("www05.example.com", "no_ack"),
    ]);
    assert.equal(
      fleetSpeech(r).speech,
      "4 of 5 servers answered; 2 failed: www03, www04; 1 did not answer: www05.",
    );
    const many = fleetResult(
      "ping",
      {},
      ["a", "b", "c", "d", "e"].map((h) => host(h, "failed")),
    );
    assert.equal(
      fleetSpeech(many).speech,
      "5 of 5 servers answered; 5 failed: a, b, c and 2 more.",
    );
  });

  test("ambiguous short names are spoken in full; no match says so", () => {
    const r = fleetResult("ping", {}, [
      host("www01.a.example", "failed"),
      host("www01.b.example", "ok"),
    ]);
    assert.match(fleetSpeech(r).speech, /1 failed: www01\.a\.example\./);
    assert.equal(
      fleetSpeech(fleetResult("ping", { role: "web" }, [])).speech,
      "No web servers matched.",
    );
    assert.equal(
      fleetSpeech(fleetResult("ping", { hostname: "www*" }, [])).speech,
      "No servers matched.",
    );
  });

  test("other result kinds", () => {
    assert.equal(
      resultSpeech({ kind: "text", title: "Version 1.2", lines: ["a"] }).speech,
      "Version 1.2",
    );
    assert.equal(resultSpeech({ kind: "nodes", nodes: [] }).speech, "0 nodes are registered.");
  });

  test("bot events become answers", () => {
    const confirm = answerFor(
      {
        kind: "finished",
        events: [
          {
            type: "confirm",
            code: "K7Q2",
            summary: "would reboot 3 hosts",
            expiresAt: "2030-01-01T00:05:00Z",
            needsOtherPerson: true,
          },
        ],
      },
      "fleet reboot",
    );
    assert.equal(
      confirm.response.outputSpeech?.text,
      "That command needs confirmation on another channel: another person must confirm it with code K7Q2.",
    );
    const error = answerFor(
      {
        kind: "finished",
        events: [{ type: "error", code: "E_PERMISSION_DENIED", message: "not allowed." }],
      },
      "x",
    );
    assert.equal(error.response.outputSpeech?.text, "I couldn't do that: not allowed.");
    assert.equal(error.response.card?.title, "E_PERMISSION_DENIED");
    const running = answerFor({ kind: "running", jobId: "j42" }, "fleet uptime");
    assert.equal(running.response.outputSpeech?.text, "I started job j42; it is still running.");
  });
});
