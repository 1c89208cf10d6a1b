/**
 * Full stack on IRC: a real ngIRCd, real agents on a real redis-server, and the bot, its HTTP
 * server and its IRC transport started by the same `startServices` that `commodore start`
 * runs. Callers are resolved by the configured nick!user@host masks.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { hashToken } from "../../transports/http/tokens.ts";
import { startServices, type Services } from "../../app/services.ts";
import { configSchema } from "../../config/schema.ts";
import { createLogger } from "../../lib/log.ts";
import { startFleet, type TestFleet } from "../harness/agents.ts";
import { connectIrcClient, type TestIrcClient } from "../harness/irc-client.ts";
import { startIrcd, type TestIrcd } from "../harness/ngircd.ts";
import { waitFor } from "../harness/ports.ts";
import { tempDir } from "../harness/tmp.ts";
import { BOT, CHANNEL, ircSection } from "./world.ts";

const UPTIME = /^\d\d:\d\d:\d\d up .*load average: [\d.]+, [\d.]+, [\d.]+$/;

function rawConfig(fleet: TestFleet, ircd: TestIrcd): Record<string, unknown> {
  return {
    redis: { url: fleet.redis.url },
    log: { level: "debug" },
    // The test's own agents are trusted on first sight (an operator's opt-in).
    controller: {
      keyPath: fleet.controllerKey.privatePath,
      principal: "ops",
      ackTimeoutMs: 1_000,
      enrollment: "tofu",
    },
    http: { listen: "127.0.0.1:0" },
    irc: {
      ...ircSection(ircd),
      reconnect: { baseMs: 100, capMs: 400 },
      progressIntervalMs: 500,
      maxChannelLines: 4,
      flood: { burst: 4, perSecond: 3 },
    },
    roles: {
      reader: {
        grants: [
          { command: "fleet", args: { provider: ["ping", "uptime", "facts"] } },
          { command: "job" },
        ],
      },
      stager: {
        grants: [{ command: "fleet", args: { provider: "uptime" }, where: { env: "staging" } }],
      },
      watcher: { grants: [{ command: "nodes" }] },
    },
    principals: [
      {
        id: "alice",
        roles: ["reader"],
        irc: { masks: ["alice!*alice@127.0.0.1"] },
        http: { tokenSha256: hashToken("alice-token") },
      },
      { id: "carol", roles: ["stager"], irc: { masks: ["carol!*carol@127.0.0.1"] } },
      { id: "mallory", roles: ["watcher"], irc: { masks: ["mallory!*@*"] } },
    ],
  };
}

/** Lines from the bot in the channel since `start`, addressed to `nick`, prefix removed. */
function repliesTo(client: TestIrcClient, nick: string, start: number): string[] {
  return client
    .from(BOT, CHANNEL)
    .slice(start)
    .filter((l) => l.startsWith(`${nick}: `))
    .map((l) => l.slice(nick.length + 2));
}

describe("IRC full stack: ngIRCd, bot, real agents", () => {
  let fleet: TestFleet;
  let ircd: TestIrcd;
  let services: Services;
  const clients: TestIrcClient[] = [];
  const logs: string[] = [];
  let alice: TestIrcClient;

  const join = async (nick: string): Promise<TestIrcClient> => {
    const c = await connectIrcClient(ircd.host, ircd.port, nick);
    clients.push(c);
    await c.join(CHANNEL);
    return c;
  };
  /** Says `text` as `client` and waits for a reply line matching `last`. */
  const ask = async (client: TestIrcClient, text: string, last: RegExp): Promise<string[]> => {
    const start = client.from(BOT, CHANNEL).length;
    client.say(CHANNEL, text);
    await waitFor(`reply to "${text}"`, () =>
      repliesTo(client, client.nick, start).some((l) => last.test(l)),
    );
    return repliesTo(client, client.nick, start);
  };

  before(async () => {
    fleet = await startFleet([
      { hostname: "www1", facts: { role: "web", env: "prod" } },
      { hostname: "www2", facts: { role: "web", env: "staging" } },
      { hostname: "db1", facts: { role: "db", env: "prod" } },
    ]);
    ircd = await startIrcd();
    services = await startServices({
      config: configSchema.parse(rawConfig(fleet, ircd)),
      stateDir: tempDir("commodore-irc-stack-"),
      env: {},
      logger: createLogger({ level: "debug", sink: (l) => logs.push(l) }),
    });
    const irc = services.irc;
    assert.ok(irc, "irc configured, so startServices started the IRC transport");
    await waitFor("bot in channel", () => irc.inChannel(CHANNEL));
    alice = await join("alice");
  });

  after(async () => {
    await services?.stop();
    for (const c of clients) await c.quit();
    await ircd?.stop();
    await fleet?.stop();
  });

  test("fleet uptime: progress counts, one line per real agent and a summary", async () => {
    const lines = await ask(alice, `${BOT}: fleet uptime`, /^uptime on 3 hosts/);
    assert.equal(lines[0], "waiting for acknowledgements from 3 hosts", lines.join("\n"));
    assert.ok(lines.includes("got 3/3 acknowledgements"), lines.join("\n"));
    const hostLines = lines.filter((l) => /^(www1|www2|db1): /.test(l));
    assert.deepEqual(
      hostLines.map((l) => l.split(": ")[0]),
      ["db1", "www1", "www2"],
    );
    for (const l of hostLines) assert.match(l.slice(l.indexOf(": ") + 2), UPTIME);
    assert.match(lines.at(-1) ?? "", /^uptime on 3 hosts: 3 ok \(\d+\.\d s\)$/);
    const audit = logs.filter((l) => l.includes('"msg":"IRC command"'));
    assert.match(audit.at(-1) ?? "", /"principal":"alice"/);
  });

  test("fleet uptime where role=web reaches only the web agents", async () => {
    const lines = await ask(alice, "!fleet uptime where role=web", /^uptime on 2 hosts/);
    assert.deepEqual(
      lines.filter((l) => /^\w+\d: /.test(l)).map((l) => l.split(":")[0]),
      ["www1", "www2"],
    );
    assert.match(lines.at(-1) ?? "", /^uptime on 2 hosts: 2 ok/);
  });

  test("a pinned grant keeps carol on env=staging; asking for prod is refused", async () => {
    const carol = await join("carol");
    const lines = await ask(carol, `${BOT}: fleet uptime`, /^uptime on 1 host/);
    assert.ok(
      lines.some((l) => /^www2: /.test(l)),
      lines.join("\n"),
    );
    const refused = await ask(carol, `${BOT}: fleet uptime where env=prod`, /E_PERMISSION_DENIED/);
    assert.match(refused.at(-1) ?? "", /^carol may not run this: .*\(E_PERMISSION_DENIED/);
  });

  test("a principal without the grant gets the bot's error; strangers are turned away", async () => {
    const mallory = await join("mallory");
    const lines = await ask(mallory, `${BOT}: fleet uptime`, /E_PERMISSION_DENIED/);
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0] ?? "", /^mallory may not run "fleet" \(E_PERMISSION_DENIED; ask an/);
    const eve = await join("eve");
    const unknown = await ask(eve, `${BOT}: fleet uptime`, /^I don't know/);
    assert.match(unknown[0] ?? "", /^I don't know eve!~?eve@127\.0\.0\.1; ask an operator/);
  });

  test("longer output: summary and a job link that the HTTP server answers", async () => {
    await fleet.addAgent({ hostname: "cache1", facts: { role: "cache", env: "prod" } });
    const lines = await ask(alice, `${BOT}: fleet uptime`, /^full output: /);
    assert.ok(
      lines.includes("uptime on 4 hosts: 4 ok") ||
        lines.some((l) => /^uptime on 4 hosts: 4 ok/.test(l)),
    );
    const link = /^full output: (\S+) /.exec(lines.at(-1) ?? "")?.[1] ?? "";
    // The status page is on by default, so the link is a signed, short-lived job page link.
    const parsed = /^http:\/\/127\.0\.0\.1:\d+\/ui\/jobs\/(j[0-9a-f]{12})\?t=\S+$/.exec(link);
    assert.ok(parsed, link);
    assert.equal(link.startsWith(services.httpUrl ?? "-"), true);
    const opened = await fetch(link, { redirect: "manual" });
    assert.equal(opened.status, 303);
    const cookie = opened.headers.get("set-cookie")?.split(";")[0] ?? "";
    const page = await fetch(new URL(opened.headers.get("location") ?? "", link), {
      headers: { cookie },
    });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /fleet uptime/);
    const res = await fetch(`${services.httpUrl}/jobs/${parsed[1]}`, {
      headers: { authorization: "Bearer alice-token" },
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { job: { state: string; principal: string } };
    assert.deepEqual([body.job.state, body.job.principal], ["succeeded", "alice"]);
  });

  test("stopping the services quits IRC cleanly", async () => {
    const irc = services.irc;
    await services.stop();
    assert.equal(irc?.connected, false);
    await waitFor("QUIT seen", () =>
      alice.raw.some((l) => l.startsWith(`:${BOT}!`) && l.includes(" QUIT ")),
    );
  });
});
