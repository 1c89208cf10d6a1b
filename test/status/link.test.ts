import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  expiryFrom,
  readJobLink,
  signToken,
  verifyToken,
} from "../../transports/http/status/link.ts";

const SECRET = Buffer.from("0123456789abcdef0123456789abcdef");
const OTHER = Buffer.from("fedcba9876543210fedcba9876543210");
const NOW = Date.UTC(2026, 0, 1);
const JOB = "j0123456789ab";

describe("status link tokens", () => {
  const exp = expiryFrom(NOW, 3_600);
  const token = signToken(SECRET, "job", JOB, "alice", exp);

  test("a fresh link verifies to its principal and expiry", () => {
    assert.deepEqual(verifyToken(SECRET, "job", JOB, token, NOW), {
      principal: "alice",
      expires: exp,
    });
    assert.match(token, /^[0-9A-Za-z._-]+$/, "the token is URL-safe");
  });

  test("an expired link is refused", () => {
    assert.equal(verifyToken(SECRET, "job", JOB, token, (exp + 1) * 1_000), undefined);
    assert.equal(verifyToken(SECRET, "job", JOB, token, exp * 1_000), undefined);
  });

  test("a link names its job: readable for any page, verified only for that job", () => {
    assert.deepEqual(readJobLink(SECRET, token, NOW), {
      jobId: JOB,
      principal: "alice",
      expires: exp,
    });
    assert.equal(readJobLink(OTHER, token, NOW), undefined);
    assert.equal(readJobLink(SECRET, token, (exp + 1) * 1_000), undefined);
    assert.equal(
      readJobLink(SECRET, signToken(SECRET, "session", "", "alice", exp), NOW),
      undefined,
    );
  });

  test("a link for another job, kind or secret is refused", () => {
    assert.equal(verifyToken(SECRET, "job", "j0123456789ac", token, NOW), undefined);
    assert.equal(verifyToken(SECRET, "session", "", token, NOW), undefined);
    assert.equal(verifyToken(OTHER, "job", JOB, token, NOW), undefined);
  });

  test("tampering with the principal, expiry or MAC is refused", () => {
    const [e, job, who, mac] = token.split(".") as [string, string, string, string];
    const bob = Buffer.from("bob").toString("base64url");
    assert.equal(verifyToken(SECRET, "job", JOB, `${e}.${job}.${bob}.${mac}`, NOW), undefined);
    const other = Buffer.from("j0123456789ac").toString("base64url");
    assert.equal(readJobLink(SECRET, `${e}.${other}.${who}.${mac}`, NOW), undefined);
    assert.equal(
      verifyToken(SECRET, "job", JOB, token.replace(/^\d+/, String(exp + 9_999)), NOW),
      undefined,
    );
    const flipped = mac.slice(0, -2) + (mac.endsWith("AA") ? "BB" : "AA");
    assert.equal(verifyToken(SECRET, "job", JOB, `${e}.${job}.${who}.${flipped}`, NOW), undefined);
  });

  test("malformed and oversized input is refused without throwing", () => {
    for (const bad of [
      "",
      "x",
      "1.2",
      "1.2.3",
      "..",
      `${exp}.YWxpY2U.`,
      "9".repeat(600),
      "a.b.c.d",
    ])
      assert.equal(verifyToken(SECRET, "job", JOB, bad, NOW), undefined, bad);
  });

  test("session tokens are bound to the session kind", () => {
    const s = signToken(SECRET, "session", "", "ci", exp);
    assert.equal(verifyToken(SECRET, "session", "", s, NOW)?.principal, "ci");
    assert.equal(verifyToken(SECRET, "job", "", s, NOW), undefined);
  });
});
