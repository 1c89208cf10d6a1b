import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compileGlob, globMatch } from "../../executors/fleet/protocol/glob.ts";

describe("glob(3) matcher", () => {
  const cases: [string, string, boolean][] = [
    ["www*", "www01.example.com", true],
    ["www*", "db01", false],
    ["*.example.com", "www01.example.com", true],
    ["www0?", "www01", true],
    ["www0?", "www010", false],
    ["www0[1-3]", "www02", true],
    ["www0[1-3]", "www04", false],
    ["www0[!1-3]", "www04", true],
    ["www0[^1-3]", "www01", false],
    ["[]]x", "]x", true],
    ["a\\*b", "a*b", true],
    ["a\\*b", "axb", false],
    ["*", "", true],
    ["", "", true],
    ["a*b*c", "aXbYc", true],
    ["a*b*c", "aXbY", false],
    ["[a-", "[a-", true],
    ["(a+)+$", "(a+)+$", true],
    ["(a+)+$", "aaaa", false],
    [".*", "anything", false],
    ["wéb*", "wébserver", true],
  ];
  for (const [pattern, text, expected] of cases) {
    test(`${JSON.stringify(pattern)} ${expected ? "matches" : "does not match"} ${JSON.stringify(text)}`, () => {
      assert.equal(globMatch(pattern, text), expected);
    });
  }

  test("many stars against a long non-matching string still terminates", () => {
    const g = compileGlob("*a*a*a*a*a*a*a*a*b");
    assert.equal(g.matches("a".repeat(5000)), false);
  });
});
