/**
 * The package as operators get it: `npm pack` holds the compiled dist/, the bin, docs, config
 * examples, units, README and LICENSE and nothing of test/, bench/ or .ci/; installed globally
 * into an empty prefix (no tsx, no esbuild anywhere it can resolve), `commodore --help`,
 * `--version` and a subcommand's help run; help loads no subcommand module.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, test } from "node:test";
import { main } from "../../cli/main.ts";
import { COMMANDS, type CommandEntry } from "../../cli/commands/index.ts";
import { tempDir } from "../harness/tmp.ts";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "../..");
const VERSION = (
  JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }
).version;

async function cli(argv: string[]) {
  let stdout = "";
  const code = await main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stdout += t),
    env: {},
    signal: new AbortController().signal,
  });
  return { code, stdout };
}

describe("the commodore package", () => {
  test("--help lists every subcommand without loading any; --version prints the package version", async () => {
    const commands = COMMANDS as Record<string, CommandEntry>;
    const saved = { ...commands };
    for (const [name, entry] of Object.entries(saved))
      commands[name] = {
        summary: entry.summary,
        load: () => Promise.reject(new Error(`help loaded ${name}`)),
      };
    try {
      const help = await cli(["--help"]);
      assert.equal(help.code, 0, help.stdout);
      for (const [name, entry] of Object.entries(saved))
        assert.match(
          help.stdout,
          new RegExp(`^  ${name} +${entry.summary.replace(/[()]/g, "\\$&")}$`, "m"),
        );
      const version = await cli(["--version"]);
      assert.deepEqual(version, { code: 0, stdout: `commodore ${VERSION}\n` });
    } finally {
      Object.assign(commands, saved);
    }
  });

  test("npm pack holds dist, bin, docs, examples, units, README and LICENSE, and no sources or tests", async () => {
    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: ROOT,
    });
    const [report] = JSON.parse(stdout) as { files: { path: string }[] }[];
    const files = (report?.files ?? []).map((f) => f.path);
    for (const needed of [
      "bin/commodore.js",
      "dist/cli/main.js",
      "dist/cli-bundle/main.js",
      "dist/cli-bundle/assets/status.css",
      "dist/transports/http/status/assets/status.css",
      "config/commodore.example.yaml",
      "config/redis-users.acl.example",
      "docs/fleet-protocol.md",
      "packaging/systemd/commodore.service",
      "packaging/systemd/commodore-agent.service",
      "README.md",
      "LICENSE",
      "package.json",
    ])
      assert.ok(files.includes(needed), `${needed} is packed`);
    const stray = files.filter(
      (f) =>
        /^(test|bench|\.ci)\//.test(f) ||
        f === "packaging/bundle.mjs" ||
        (f.endsWith(".ts") && !f.endsWith(".d.ts")),
    );
    assert.deepEqual(stray, []);
  });

  test("installed from the tarball into an empty prefix, it runs without tsx or esbuild", async () => {
    const dir = tempDir("commodore-pack-");
    await run("npm", ["pack", "--ignore-scripts", "--pack-destination", dir], { cwd: ROOT });
    const tarball = join(dir, `commodore-${VERSION}.tgz`);
    const prefix = join(dir, "prefix");
    await run(
      "npm",
      ["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", tarball],
      { cwd: dir, timeout: 120_000 },
    );
    const installed = join(prefix, "lib", "node_modules", "commodore");
    for (const devOnly of ["tsx", "esbuild", "typescript"])
      assert.equal(
        existsSync(join(installed, "node_modules", devOnly)),
        false,
        `${devOnly} installed`,
      );
    const bin = join(prefix, "bin", "commodore");
    const env = { PATH: `${join(prefix, "bin")}:/usr/bin:/bin`, HOME: dir };
    const help = await run(bin, ["--help"], { env });
    assert.match(help.stdout, /^ {2}agent +run the fleet agent on this host$/m);
    assert.equal((await run(bin, ["--version"], { env })).stdout, `commodore ${VERSION}\n`);
    const agent = await run(bin, ["agent", "--help"], { env });
    assert.match(agent.stdout, /^Usage: commodore agent/);
    const keygen = await run(bin, ["keygen", "--out", join(dir, "k"), "--principal", "ops"], {
      env,
    });
    assert.match(keygen.stdout, /^ops namespaces="commodore-request@commodore" ssh-ed25519 /m);
  });
});
