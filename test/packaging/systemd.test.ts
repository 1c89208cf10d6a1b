/**
 * The shipped systemd units: `systemd-analyze verify` accepts them without a warning (with the
 * binary pointed at this checkout's bin), their commands and flags exist, and the paths they
 * name are the ones the CLI uses by default under systemd.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, test } from "node:test";
import { main } from "../../cli/main.ts";
import {
  CONFIG_FILE_NAME,
  STATE_DIR_NAME,
  SYSTEM_CONFIG,
  configPath,
  stateDir,
} from "../../cli/paths.ts";
import { tempDir } from "../harness/tmp.ts";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "../..");
const UNITS = ["commodore.service", "commodore-agent.service"];
const INSTALLED_BIN = "/usr/bin/commodore";

function unitText(name: string): string {
  return readFileSync(join(ROOT, "packaging", "systemd", name), "utf8");
}

function directive(text: string, key: string): string[] {
  return [...text.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].map((m) => m[1] ?? "");
}

async function usage(sub: string): Promise<string> {
  let out = "";
  await main([sub, "--help"], {
    stdout: (t) => void (out += t),
    stderr: (t) => void (out += t),
    env: {},
    signal: new AbortController().signal,
  });
  return out;
}

describe("systemd units", () => {
  test("systemd-analyze verify accepts both units without a single warning", async () => {
    const dir = tempDir("commodore-units-");
    const paths = UNITS.map((name) => {
      const path = join(dir, name);
      writeFileSync(
        path,
        unitText(name).replaceAll(INSTALLED_BIN, join(ROOT, "bin", "commodore.js")),
      );
      return path;
    });
    const { stderr } = await run("systemd-analyze", ["verify", "--man=no", ...paths]);
    assert.equal(stderr.trim(), "");
  });

  test("every command, flag and path the units name exists and matches the CLI's defaults", async () => {
    for (const name of UNITS) {
      const text = unitText(name);
      const [exec] = directive(text, "ExecStart");
      const [bin, sub = "", ...flags] = (exec ?? "").split(" ");
      assert.equal(bin, INSTALLED_BIN, `${name} runs the installed binary`);
      const help = await usage(sub);
      assert.match(help, new RegExp(`^Usage: commodore ${sub}`, "m"), `${name}: ${sub} exists`);
      for (const flag of flags.filter((f) => f.startsWith("--")))
        assert.ok(help.includes(flag), `${name}: ${sub} takes ${flag}`);
      const configArg = flags[flags.indexOf("--config") + 1];
      assert.equal(configArg, SYSTEM_CONFIG);
      assert.deepEqual(directive(text, "ConfigurationDirectory"), ["commodore"]);
      assert.deepEqual(directive(text, "Restart"), ["on-failure"]);
      assert.deepEqual(directive(text, "NoNewPrivileges"), ["yes"]);
      assert.equal(directive(text, "ProtectSystem").length, 1);
    }
    const bot = unitText("commodore.service");
    assert.deepEqual(directive(bot, "StateDirectory"), [STATE_DIR_NAME]);
    const agent = unitText("commodore-agent.service");
    assert.deepEqual(directive(agent, "ExecReload"), ["/bin/kill -HUP $MAINPID"]);
    assert.match(await usage("agent"), /SIGHUP reloads/);
  });

  test("under systemd the CLI finds its configuration and state where the units put them", () => {
    const dir = tempDir("commodore-paths-");
    writeFileSync(join(dir, CONFIG_FILE_NAME), "log: {level: info}\n");
    assert.equal(
      configPath(undefined, { CONFIGURATION_DIRECTORY: dir }),
      join(dir, CONFIG_FILE_NAME),
    );
    assert.equal(configPath("x.yaml", { CONFIGURATION_DIRECTORY: dir }), "x.yaml");
    assert.equal(configPath(undefined, { COMMODORE_CONFIG: "y.yaml" }), "y.yaml");
    assert.equal(stateDir({ STATE_DIRECTORY: "/var/lib/commodore" }), "/var/lib/commodore");
    assert.equal(stateDir({ COMMODORE_STATE_DIR: "/s", STATE_DIRECTORY: "/x" }), "/s");
    assert.equal(
      stateDir({ XDG_STATE_HOME: "/home/a/.state", HOME: "/home/a" }),
      "/home/a/.state/commodore",
    );
    assert.equal(stateDir({ HOME: "/home/a" }), "/home/a/.local/state/commodore");
    assert.throws(() => stateDir({ HOME: "relative" }), { code: "E_CLI_NO_STATE_DIR" });
  });
});
