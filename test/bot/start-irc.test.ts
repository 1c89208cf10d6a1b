/**
 * `commodore start --config <file>` with an `irc` section, as a child process: it connects to
 * a real ngIRCd, answers in the channel from its local agent, and quits IRC on Ctrl-C.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnCommodore } from "../harness/commodore-process.ts";
import { connectIrcClient } from "../harness/irc-client.ts";
import { startIrcd } from "../harness/ngircd.ts";
import { freePort, waitFor } from "../harness/ports.ts";
import { tempDir } from "../harness/tmp.ts";

const CHANNEL = "#ops";

describe("commodore start with IRC", () => {
  test("connects to ngIRCd, answers `commodore: fleet ping` in the channel, quits on SIGINT", async () => {
    const ircd = await startIrcd();
    const dir = tempDir("commodore-start-irc-");
    const file = join(dir, "commodore.yaml");
    writeFileSync(
      file,
      [
        "http:",
        `  listen: 127.0.0.1:${await freePort()}`,
        "agent:",
        "  local: true",
        "  facts: { role: bot }",
        "roles:",
        "  reader:",
        "    grants:",
        "      - command: fleet",
        "        args: { provider: [ping, uptime] }",
        "principals:",
        "  - id: alice",
        "    roles: [reader]",
        '    irc: { masks: ["alice!*@127.0.0.1"] }',
        "irc:",
        `  host: ${ircd.host}`,
        `  port: ${ircd.port}`,
        "  tls: { enabled: false }",
        "  nick: commodore",
        `  channels: [{ name: "${CHANNEL}" }]`,
        "  flood: { burst: 4, perSecond: 3 }",
        "",
      ].join("\n"),
    );
    const alice = await connectIrcClient(ircd.host, ircd.port, "alice");
    await alice.join(CHANNEL);
    const { child, out, exited } = spawnCommodore(["start", "--config", file], {
      PATH: process.env["PATH"] ?? "",
      HOME: process.env["HOME"] ?? "/tmp",
      COMMODORE_STATE_DIR: join(dir, "state"),
      LOG_LEVEL: "info",
    });
    try {
      // Generous: a cold start transpiles the whole bot, then registers on IRC.
      await waitFor("the IRC hint", () => /^or say .*$/m.test(out.stdout), 45_000).catch(
        (err: unknown) => {
          throw new Error(`${String(err)}\nstdout:\n${out.stdout}\nstderr:\n${out.stderr}`);
        },
      );
      assert.match(out.stdout, /^or say "commodore: fleet ping" in #ops$/m);
      await waitFor("the bot joined", () =>
        alice.raw.some((l) => /^:commodore!\S+ JOIN :?#ops/.test(l)),
      );
      alice.say(CHANNEL, "commodore: fleet ping");
      const [summary] = await alice.waitForLines("commodore", /^alice: ping on 1 host/);
      assert.match(summary ?? "", /^alice: ping on 1 host: 1 ok \(\d+\.\d s\)$/);
      assert.equal(
        alice.from("commodore", CHANNEL).filter((l) => /^alice: \S+: pong$/.test(l)).length,
        1,
        alice.from("commodore").join("\n"),
      );
      child.kill("SIGINT");
      assert.equal(await exited, 0, out.stderr);
      await waitFor("the bot quit IRC", () =>
        alice.raw.some((l) => /^:commodore!\S+ QUIT /.test(l)),
      );
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await alice.quit();
      await ircd.stop();
    }
  });
});
