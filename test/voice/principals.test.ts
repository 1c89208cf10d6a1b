import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { PrincipalDirectory } from "../../bot/identity/directory.ts";
import { voicePrincipals } from "../../transports/voice/principals.ts";

describe("voice principals", () => {
  test("application and user", () => {
    const resolve = voicePrincipals(
      new PrincipalDirectory([
        { id: "alice", roles: ["ops"] },
        { id: "eve", roles: ["voice"], voice: { applicationId: "app-1", userId: "user-9" } },
      ]),
    );
    assert.equal(resolve({ applicationId: "app-1", userId: "user-9" })?.id, "eve");
    assert.equal(resolve({ applicationId: "app-1", userId: "user-9" })?.display, "voice:eve");
    assert.equal(resolve({ applicationId: "app-1", userId: "user-8" }), undefined);
    assert.equal(resolve({ applicationId: "app-2", userId: "user-9" }), undefined);
  });
});
