import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isIrcSafe, sanitizeLine, sanitizeLines } from "../../transports/irc/sanitize.ts";
import { byteLength, splitUtf8 } from "../../transports/irc/split.ts";

// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f]/;

describe("sanitizeLine", () => {
  test("an injected IRC command stays inside one message body", () => {
    const out = sanitizeLine("ok\r\nPRIVMSG #x :pwned\r\nQUIT :bye");
    assert.doesNotMatch(out, /[\r\n]/);
    assert.equal(out, "ok ↵ PRIVMSG #x :pwned ↵ QUIT :bye");
  });

  test("NUL, ESC, mIRC colours, DEL and C1 controls become visible placeholders", () => {
    const out = sanitizeLine("a\u0000b\u001b[31mc\u0003" + "4red\u0002d\u007fe\u0085f\u009bg");
    assert.doesNotMatch(out, FORBIDDEN);
    assert.equal(out, "a␀b␛[31mc␃4red␂d␡e ↵ f\uFFFDg");
  });

  test("tabs become spaces, bidi overrides and lone surrogates are replaced", () => {
    assert.equal(sanitizeLine("a\tb"), "a b");
    assert.equal(sanitizeLine("x\u202ey"), "x\uFFFDy");
    assert.equal(sanitizeLine("x\ud800y"), "x\uFFFDy");
    assert.equal(sanitizeLine("emoji 🚢 ok"), "emoji 🚢 ok");
  });

  test("sanitizeLines splits on newlines and drops blank lines", () => {
    assert.deepEqual(sanitizeLines("one\r\n\ntwo\u0007\n  \n"), ["one", "two␇"]);
  });

  test("isIrcSafe tells clean text from dirty text", () => {
    assert.equal(isIrcSafe("www01: up 5 days"), true);
    assert.equal(isIrcSafe("x\ny"), false);
  });
});

describe("splitUtf8", () => {
  test("short text is one piece", () => {
    assert.deepEqual(splitUtf8("hello", 400), ["hello"]);
    assert.deepEqual(splitUtf8("", 400), [""]);
  });

  test("pieces never exceed the byte limit and rejoin to the original", () => {
    const text = "é".repeat(300) + "🚢".repeat(150) + "x".repeat(333);
    const pieces = splitUtf8(text, 400);
    for (const p of pieces) assert.ok(byteLength(p) <= 400, `${byteLength(p)} bytes`);
    assert.equal(pieces.join(""), text);
    assert.ok(pieces.length >= 4);
  });

  test("never splits inside a multi-byte character", () => {
    // 399 ASCII bytes then a 4-byte emoji: the emoji must move to the next piece whole.
    const text = "a".repeat(399) + "🚢" + "b";
    const [first, second] = splitUtf8(text, 400);
    assert.equal(first, "a".repeat(399));
    assert.equal(second, "🚢b");
    for (const p of splitUtf8("€".repeat(500), 400)) {
      assert.equal(Buffer.from(p, "utf8").toString("utf8"), p);
      assert.ok(!p.includes("\uFFFD"));
    }
  });

  test("prefers the last space near the limit", () => {
    const words = Array.from({ length: 120 }, (_, i) => `word${i}`).join(" ");
    const pieces = splitUtf8(words, 400);
    for (const p of pieces) {
      assert.ok(byteLength(p) <= 400);
      assert.doesNotMatch(p, /^ | $/);
    }
    assert.equal(pieces.join(" "), words);
  });

  test("rejects a limit too small for any character", () => {
    assert.throws(() => splitUtf8("x", 3), RangeError);
  });
});
