import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  compileSafeRegex,
  MAX_REGEX_LENGTH,
  RegexError,
  safeRegexMatch,
} from "../../executors/fleet/protocol/regex.ts";

describe("safe regex engine", () => {
  test("agrees with RegExp on the supported dialect", () => {
    const cases: [string, string][] = [
      ["^www\\d+$", "www12"],
      ["^www\\d+$", "www12x"],
      ["db|web", "xwebx"],
      ["^(ab)+$", "ababab"],
      ["^(ab)+$", "ababa"],
      ["^a{2,3}$", "aaaa"],
      ["^a{2,3}$", "aaa"],
      ["^a{2,}$", "aaaaa"],
      ["[^0-9]", "123"],
      ["[a-c-]x", "-x"],
      ["\\.example\\.com$", "www.example.com"],
      ["\\.example\\.com$", "wwwxexample.com"],
      ["^(?:db|www)0[1-3]\\.", "www02.x"],
      ["^\\w+\\s\\S$", "ab c"],
      ["^$", ""],
      ["x*?y", "xxy"],
      ["^.{3}$", "héé"],
    ];
    for (const [p, t] of cases)
      assert.equal(compileSafeRegex(p).test(t), new RegExp(p, "u").test(t), `/${p}/ on ${t}`);
  });

  test("refuses back-references, look-around, stacked quantifiers and oversized patterns", () => {
    for (const bad of [
      "(a)\\1",
      "(?=a)",
      "(?!a)",
      "(?<n>a)",
      "a**",
      "*a",
      "(a",
      "a)",
      "[a",
      "a{101}",
      "\\b",
      "x".repeat(MAX_REGEX_LENGTH + 1),
    ])
      assert.throws(() => compileSafeRegex(bad), RegexError, bad);
  });

  test("catastrophic patterns run in linear time and invalid ones never match", () => {
    const hostile = ["(a+)+$", "^(a|a)*$", "(.*)*x", "(a*)*b", "^(\\w+\\s?)*$"];
    const text = `${"a".repeat(1_000)}!`;
    for (const p of hostile) assert.equal(safeRegexMatch(p, text), false, p);
    assert.equal(safeRegexMatch("(?=x)", "x"), false);
  });
});
