import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { PrincipalDirectory } from "../../bot/identity/directory.ts";
import { hashToken, tokenPrincipals } from "../../transports/http/tokens.ts";

const resolve = tokenPrincipals(
  new PrincipalDirectory([
    { id: "alice", roles: ["ops"], http: { tokenSha256: hashToken("a-token") } },
    { id: "bob", roles: [], http: { tokenEnv: "BOB_TOKEN" } },
    { id: "eve", roles: ["voice"] },
  ]),
  { BOB_TOKEN: "b-token" },
);

describe("HTTP bearer tokens", () => {
  test("tokens by hash or environment variable", () => {
    assert.equal(resolve("a-token")?.id, "alice");
    assert.equal(resolve("a-token")?.display, "token:alice");
    assert.equal(resolve("b-token")?.id, "bob");
    assert.equal(resolve("a-tokeN"), undefined);
    assert.equal(resolve(""), undefined);
  });

  test("a configured hash in upper case matches too", () => {
    const upper = tokenPrincipals(
      new PrincipalDirectory([
        { id: "ci", roles: [], http: { tokenSha256: hashToken("ci").toUpperCase() } },
      ]),
      {},
    );
    assert.equal(upper("ci")?.id, "ci");
  });

  test("a token variable that is not set is a configuration error naming it", () => {
    assert.throws(
      () =>
        tokenPrincipals(
          new PrincipalDirectory([{ id: "x", roles: [], http: { tokenEnv: "NOPE" } }]),
          {},
        ),
      /principals\[0\]\.http\.tokenEnv names NOPE, which is not set/,
    );
    assert.throws(
      () =>
        tokenPrincipals(
          new PrincipalDirectory([
            { id: "a", roles: [] },
            { id: "x", roles: [], http: { tokenEnv: "EMPTY" } },
          ]),
          { EMPTY: "" },
        ),
      /principals\[1\]\.http\.tokenEnv names EMPTY/,
    );
  });
});
