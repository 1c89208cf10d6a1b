/**
 * The `provision` section of the main configuration: the commented examples are valid once
 * enabled, notices must go to joined channels, callbacks need HTTP, and errors name the path.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadConfig } from "../../config/load.ts";
import { configLoader, problems, uncomment } from "./helpers.ts";

const load = configLoader("commodore-config-provision-");

const BASE = [
  "provision:",
  "  playbookDir: /etc/commodore/playbooks",
  "  logDir: /var/log/commodore/provision",
  "  remoteUser: deploy",
  "  privateKey: /etc/commodore/keys/provision_ed25519",
];

describe("provision section of the configuration", () => {
  test("the commented examples are valid once enabled, with defaults applied", () => {
    const full = readFileSync("config/commodore.example.yaml", "utf8");
    const config = load("full.yaml", uncomment(uncomment(full, "irc"), "provision"));
    assert.deepEqual(config.provision?.notices.channels, ["#ops"]);
    assert.deepEqual(config.provision?.firstBoot.map, { web: "web", db: "db" });
    assert.equal(config.provision?.firstBoot.pollMs, 2_000);
    assert.deepEqual(Object.keys(config.provision?.callback.playbooks ?? {}), ["web"]);
    const minimal = readFileSync("config/minimal.example.yaml", "utf8");
    const small = load("minimal.yaml", uncomment(minimal, "provision"));
    assert.equal(small.provision?.concurrency, 4);
    assert.equal(small.provision?.redisPrefix, "{commodore:provision}:");
    assert.equal(loadConfig({ env: {} }).provision, undefined, "absent by default");
  });

  test("notices only go to channels the bot joins", () => {
    const lines = problems(() =>
      load("notices.yaml", [...BASE, '  notices: { channels: ["#nowhere"] }', ""].join("\n")),
    );
    assert.deepEqual(lines, [
      'provision.notices.channels[0]: expected a channel listed in irc.channels (the bot only speaks where it joined), found "#nowhere" (a string)',
    ]);
    const joined = load(
      "joined.yaml",
      [
        ...BASE,
        '  notices: { channels: ["#OPS"] }',
        "irc:",
        "  host: irc.example.org",
        '  channels: [{ name: "#ops" }]',
        "",
      ].join("\n"),
    );
    assert.deepEqual(joined.provision?.notices.channels, ["#OPS"], "compared case-insensitively");
  });

  test("callbacks need the HTTP server; bad fields name path, expectation and value", () => {
    const lines = problems(() =>
      load(
        "callback.yaml",
        [
          ...BASE,
          "  callback: { playbooks: { web: { hostConfigKeyEnv: WEB_KEY } } }",
          "  firstBoot: { pollMs: 0, map: { web: ../etc/passwd } }",
          "http: { enabled: false }",
          "",
        ].join("\n"),
      ),
    );
    const text = lines.join("\n");
    assert.match(text, /^provision\.firstBoot\.pollMs: expected .*1.*, found 0/m);
    assert.match(text, /^provision\.firstBoot\.map\.web: expected a playbook name/m);
    assert.match(text, /^http\.enabled: expected true when provision\.callback\.playbooks/m);
  });
});
