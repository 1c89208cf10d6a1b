/**
 * The irc, voice and http.publicUrl sections of the main configuration: the commented-out
 * examples are valid once enabled, and errors name path, expectation and value.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadConfig } from "../../config/load.ts";
import { configSchema } from "../../config/schema.ts";
import { jobLinks, publicBaseUrl } from "../../app/job-links.ts";
import { configLoader, problems, uncomment } from "./helpers.ts";

const load = configLoader("commodore-config-transports-");

describe("transport sections of the configuration", () => {
  test("the commented irc and voice examples are valid once enabled", () => {
    let text = readFileSync("config/commodore.example.yaml", "utf8");
    text = uncomment(uncomment(text, "irc"), "voice");
    assert.equal(loadConfig({ env: {} }).irc, undefined, "no irc section by default");
    const full = load("full.yaml", text);
    assert.equal(full.irc?.host, "irc.example.org");
    assert.deepEqual(
      full.irc?.channels.map((ch) => ch.name),
      ["#ops", "#secret"],
    );
    assert.equal(full.irc?.sasl?.passwordEnv, "COMMODORE_IRC_PASSWORD");
    assert.deepEqual(Object.keys(full.voice?.intents ?? {}), ["GetUptime", "PingGroup"]);
    const minimal = uncomment(readFileSync("config/minimal.example.yaml", "utf8"), "irc");
    assert.equal(load("minimal.yaml", minimal).irc?.port, 6697);
  });

  test("irc and voice errors name the path, what was expected and what was found", () => {
    const lines = problems(() =>
      load(
        "bad.yaml",
        [
          "irc:",
          "  host: irc.example.org",
          '  nick: "9lives"',
          "  channels: [{ name: ops }]",
          "  sasl: { mechanism: PLAIN }",
          "  nikc: x",
          "voice:",
          "  applicationIds: [app]",
          "  changeRoles: [nobody]",
          "  intents:",
          '    Up: { command: "fleet uptime where role={role}", slots: { role: { allow: [Web] } } }',
          "",
        ].join("\n"),
      ),
    );
    const text = lines.join("\n");
    assert.match(text, /^irc\.nick: expected a valid IRC nickname, found "9lives" \(a string\)$/m);
    assert.match(text, /^irc\.channels\[0\]\.name: expected something like #channel, found "ops"/m);
    assert.match(text, /^irc\.sasl\.account: expected PLAIN needs an account, found nothing$/m);
    assert.match(text, /^irc\.nikc: expected one of host, .*\(did you mean nick\?\)/m);
    assert.match(
      text,
      /^voice\.intents\.Up\.slots\.role\.allow\[0\]: expected one lowercase word of a-z 0-9/m,
    );
    assert.match(text, /^voice\.changeRoles\[0\]: expected a role defined under roles/m);
  });

  test("voice needs the HTTP transport; publicUrl must be an http(s) URL", () => {
    const voice = { applicationIds: ["app"] };
    const off = configSchema.safeParse({ http: { enabled: false }, voice });
    assert.equal(off.success, false);
    assert.deepEqual(off.error?.issues[0]?.path, ["http", "enabled"]);
    assert.equal(configSchema.safeParse({ voice }).success, true);
    const lines = problems(() => load("url.yaml", "http:\n  publicUrl: ftp://x\n"));
    assert.deepEqual(lines, [
      'http.publicUrl: expected an http(s) URL such as https://commodore.example.org, found "ftp://x" (a string)',
    ]);
  });

  test("job links: configured public URL, or the bound address", () => {
    const link = jobLinks(publicBaseUrl("https://ops.example.org/commodore/", undefined));
    assert.equal(
      link("j0123456789ab", "alice"),
      "https://ops.example.org/commodore/jobs/j0123456789ab",
    );
    assert.equal(
      jobLinks(publicBaseUrl(undefined, { host: "127.0.0.1", port: 8080 }))("j1", "alice"),
      "http://127.0.0.1:8080/jobs/j1",
    );
    assert.equal(
      publicBaseUrl(undefined, { host: "::1", port: 9000 }),
      "http://[::1]:9000",
      "IPv6 in brackets",
    );
    assert.doesNotMatch(
      publicBaseUrl(undefined, { host: "0.0.0.0", port: 80 }) ?? "",
      /0\.0\.0\.0/,
    );
    assert.equal(jobLinks(publicBaseUrl(undefined, undefined))("j1", "alice"), undefined);
  });
});
