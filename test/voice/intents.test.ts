/** Intent → command mapping: slot allow-lists, entity resolution, and template safety. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { OptionsError } from "../../lib/errors.ts";
import { intentCommand, slotValue } from "../../transports/voice/intents.ts";
import { parseVoiceOptions } from "../../transports/voice/options.ts";
import type { VoiceIntent, VoiceSlot } from "../../transports/voice/request.ts";

const options = parseVoiceOptions({
  applicationIds: ["app"],
  intents: {
    GetUptime: {
      command: "fleet uptime where role={role}",
      slots: { role: { allow: ["web", "db"] } },
    },
    Ping: {
      command: "fleet ping where role={role}",
      slots: { role: { allow: ["web"], default: "web" } },
    },
  },
});
const uptime = options.intents["GetUptime"];
const ping = options.intents["Ping"];
const intent = (value?: string, extra: Partial<VoiceSlot> = {}): VoiceIntent => ({
  name: "GetUptime",
  confirmationStatus: "NONE",
  slots: { role: { name: "role", ...(value === undefined ? {} : { value }), ...extra } },
});
const match = (id: string, code = "ER_SUCCESS_MATCH") => ({
  resolutions: {
    resolutionsPerAuthority: [{ status: { code }, values: [{ value: { name: id, id } }] }],
  },
});

describe("intent mapping", () => {
  test("substitutes an allowed slot value, lowercased", () => {
    assert.ok(uptime && ping);
    assert.deepEqual(intentCommand(uptime, intent("Web")), {
      ok: true,
      command: "fleet uptime where role=web",
    });
  });

  test("prefers the entity-resolution id over the spoken value", () => {
    assert.equal(slotValue({ name: "role", value: "web servers", ...match("WEB") }), "web");
    assert.equal(
      slotValue({ name: "role", value: "db", ...match("WEB", "ER_SUCCESS_NO_MATCH") }),
      "db",
    );
    assert.equal(slotValue({ name: "role", value: "  " }), undefined);
  });

  test("refuses values outside the allow-list, including injection attempts", () => {
    assert.ok(uptime);
    for (const value of [
      "mail",
      "web where hostname=*",
      "web role=db",
      "'web'",
      "web\nfleet reboot",
      "w*",
    ]) {
      const out = intentCommand(uptime, intent(value));
      assert.deepEqual(
        out,
        { ok: false, problem: "not-allowed", slot: "role", allowed: ["web", "db"] },
        value,
      );
    }
    const viaResolution = intentCommand(uptime, intent("web", match("web where role=db")));
    assert.equal(viaResolution.ok, false);
  });

  test("a missing slot uses its default or is reported", () => {
    assert.ok(uptime && ping);
    assert.deepEqual(intentCommand(uptime, intent()), {
      ok: false,
      problem: "missing",
      slot: "role",
      allowed: ["web", "db"],
    });
    assert.deepEqual(intentCommand(ping, { name: "Ping", confirmationStatus: "NONE" }), {
      ok: true,
      command: "fleet ping where role=web",
    });
  });
});

describe("voice options", () => {
  const bad = (voice: unknown, path: RegExp) =>
    assert.throws(
      () => parseVoiceOptions(voice),
      (err: unknown) => err instanceof OptionsError && path.test(err.message),
    );

  test("applies defaults", () => {
    assert.equal(options.timestampToleranceSeconds, 150);
    assert.equal(options.answerDeadlineMs, 6000);
    assert.equal(options.allowDangerous, false);
    assert.deepEqual(options.changeRoles, []);
    assert.equal(options.trustedRootsFile, "/etc/ssl/certs/ca-certificates.crt");
  });

  test("names the path of a bad value", () => {
    bad({}, /^voice\.applicationIds: Required/);
    bad(
      { applicationIds: ["a"], timestampToleranceSeconds: 300 },
      /voice\.timestampToleranceSeconds/,
    );
    bad(
      { applicationIds: ["a"], intents: { X: { command: "fleet {role}" } } },
      /voice\.intents\.X\.command: placeholder \{role\}/,
    );
    bad(
      {
        applicationIds: ["a"],
        intents: { X: { command: "fleet", slots: { r: { allow: ["a"] } } } },
      },
      /slots\.r: slot is not used/,
    );
    bad(
      {
        applicationIds: ["a"],
        intents: { X: { command: "fleet {r}", slots: { r: { allow: ["a b"] } } } },
      },
      /allow\.0: expected one lowercase word/,
    );
    bad(
      {
        applicationIds: ["a"],
        intents: { X: { command: "fleet {r}", slots: { r: { allow: ["a"], default: "b" } } } },
      },
      /default must be one of/,
    );
    bad(
      {
        applicationIds: ["a"],
        intents: { X: { command: "fleet {r} }", slots: { r: { allow: ["a"] } } } },
      },
      /stray/,
    );
    bad({ applicationIds: ["a"], surprise: 1 }, /Unrecognized key/);
  });
});
