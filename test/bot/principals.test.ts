import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  ANONYMOUS_ID,
  anonymousPrincipal,
  PrincipalDirectory,
} from "../../bot/identity/directory.ts";

describe("the principal directory", () => {
  const directory = new PrincipalDirectory([
    { id: "alice", roles: ["ops", "web"] },
    { id: "bob", roles: [] },
  ]);

  test("finds a principal by id, with its roles and the id as its display", () => {
    assert.deepEqual(directory.byId("alice"), {
      id: "alice",
      roles: ["ops", "web"],
      display: "alice",
    });
    assert.equal(directory.byId("carol"), undefined);
  });

  test("find shows the first matching entry as the transport says", () => {
    const found = directory.find(
      (e) => e.roles.length === 0,
      (e) => `test:${e.id}`,
    );
    assert.deepEqual(found, { id: "bob", roles: [], display: "test:bob" });
    assert.equal(
      directory.find(
        () => false,
        () => "x",
      ),
      undefined,
    );
  });

  test("the anonymous principal has no roles of its own", () => {
    assert.deepEqual(anonymousPrincipal("http:127.0.0.1"), {
      id: ANONYMOUS_ID,
      roles: [],
      display: "http:127.0.0.1",
    });
  });

  test("a principal's roles are a copy, not the configuration's array", () => {
    const p = directory.byId("alice");
    assert.ok(p);
    (p.roles as string[]).push("admin");
    assert.deepEqual(directory.byId("alice")?.roles, ["ops", "web"]);
  });
});
