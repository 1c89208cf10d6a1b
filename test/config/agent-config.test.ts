/**
 * `commodore agent --config`: the agent reads its own sections of the shared file (redis, log,
 * agent) without loading the bot's schemas, and still reports its own mistakes precisely.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { BOT_SECTIONS, loadAgentConfig } from "../../config/agent.ts";
import { configSchema } from "../../config/schema.ts";
import { ConfigError } from "../../config/errors.ts";
import { tempDir } from "../harness/tmp.ts";
import { problems } from "./helpers.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** What an agent process must never load through its configuration. */
const BOT_ONLY = [
  "transports/",
  "bot/",
  "app/",
  "executors/provision/",
  "executors/fleet/controller/",
  "executors/fleet/index.ts",
];

/** Every project file `entry` imports, transitively (relative imports of the sources). */
function importClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(ROOT, file), "utf8");
    for (const [, spec] of text.matchAll(/(?:^|\n)\s*(?:import|export)[^"']*?from\s+"(\.[^"]+)"/g))
      if (spec !== undefined) visit(join(dirname(file), spec));
    for (const [, spec] of text.matchAll(/import\("(\.[^"]+)"\)/g))
      if (spec !== undefined) visit(join(dirname(file), spec));
  };
  visit(entry);
  return seen;
}

describe("the agent's view of the configuration file", () => {
  const dir = tempDir("commodore-agent-config-");
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  test("reads redis, log and agent from the shared file; the bot's sections pass unread", () => {
    const path = file(
      "shared.yaml",
      [
        "redis: {url: redis://redis.internal:6379, prefix: fleet-a}",
        "log: {level: warn}",
        "agent:",
        "  hostKeyPath: /etc/ssh/ssh_host_ed25519_key",
        "  facts: {role: web}",
        "irc: {server: irc.example, nick: commodore, channels: ['#ops']}",
        "http: {enabled: true, listen: '0.0.0.0:8080'}",
        "principals: [{id: alice, roles: [ops]}]",
      ].join("\n"),
    );
    const c = loadAgentConfig({ file: path, env: {} });
    assert.equal(c.redis.url, "redis://redis.internal:6379");
    assert.equal(c.redis.prefix, "fleet-a");
    assert.equal(c.log.level, "warn");
    assert.equal(c.agent?.hostKeyPath, "/etc/ssh/ssh_host_ed25519_key");
    assert.deepEqual(c.agent?.facts, { role: "web" });
  });

  test("its own mistakes are reported with line, path, expectation and suggestion", () => {
    const path = file(
      "typo.yaml",
      ["redis: {url: http://x}", "agent:", "  hostKeyPth: /k", "  concurrency: many"].join("\n"),
    );
    const lines = problems(() => loadAgentConfig({ file: path, env: {} }));
    assert.equal(lines.length, 3, lines.join("\n"));
    assert.match(lines.join("\n"), /redis\.url: expected a redis:\/\/, rediss:\/\/ or unix:\/\//);
    assert.match(lines.join("\n"), /agent\.hostKeyPth: .*did you mean hostKeyPath\?/);
    assert.match(lines.join("\n"), /agent\.concurrency: expected a number, found "many"/);
  });

  test("a misspelled section is refused with a suggestion; the bot's sections are all known", () => {
    const path = file("misspelled.yaml", "agnet: {facts: {role: web}}\nreddis: {}\n");
    const lines = problems(() => loadAgentConfig({ file: path, env: {} })).join("\n");
    assert.match(lines, /agnet: .*did you mean agent\?/);
    assert.match(lines, /reddis: .*did you mean redis\?/);
    const whole = Object.keys(configSchema.innerType().shape).sort();
    assert.deepEqual([...BOT_SECTIONS, "redis", "log", "agent"].sort(), whole);
  });

  test("environment overrides apply and a bad one names its variable", () => {
    const path = file("env.yaml", "agent: {facts: {role: db}}\n");
    const c = loadAgentConfig({ file: path, env: { REDIS_URL: "redis://10.0.0.5:6379" } });
    assert.equal(c.redis.url, "redis://10.0.0.5:6379");
    assert.throws(
      () => loadAgentConfig({ file: path, env: { LOG_LEVEL: "loud" } }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.some((p) => p.path === "log.level" && p.fromEnv === "LOG_LEVEL"),
    );
  });

  test("loads none of the bot's code: transports, bot, provisioning, the controller", () => {
    const closure = [...importClosure("config/agent.ts")];
    const strays = closure.filter((f) => BOT_ONLY.some((p) => f.startsWith(p)));
    assert.deepEqual(strays, []);
    // The closure walker does follow imports: the agent's options are in it.
    assert.ok(closure.includes("executors/fleet/options.ts"), closure.join("\n"));
    // And it would see the bot's schemas through the whole-file loader.
    const whole = [...importClosure("config/load.ts")];
    assert.ok(
      whole.some((f) => f.startsWith("transports/")),
      "config/load.ts reaches the transports",
    );
  });
});
