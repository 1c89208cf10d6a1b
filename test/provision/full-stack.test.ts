/**
 * `provision <host>` through the running bot (`startServices`) with real parts: HTTP
 * /commands on a real socket, agents registering (signed) the REAL sshd's host key on a real
 * redis-server, real ansible-playbook, and IRC notices on a real ngIRCd. Two ansible runs.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { connectIrcClient, type TestIrcClient } from "../harness/irc-client.ts";
import { startIrcd, type TestIrcd } from "../harness/ngircd.ts";
import { waitFor } from "../harness/ports.ts";
import { startProvisionStack, TOKENS, type ProvisionStack } from "../harness/provision-stack.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { BOT, CHANNEL, ircSection } from "../irc/world.ts";

const CALLBACK_KEY = "callback-key";
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

interface CommandBody {
  readonly ok?: boolean;
  readonly jobId?: string;
  readonly lines?: string[];
  readonly result?: { data?: { provision?: { jobId: string; status: string } } };
  readonly error?: { code: string; message: string };
}

describe("provisioning in the running bot", () => {
  let ircd: TestIrcd;
  let watcher: TestIrcClient;
  let stack: ProvisionStack;

  before(async () => {
    ircd = await startIrcd();
    watcher = await connectIrcClient(ircd.host, ircd.port, "watcher");
    await watcher.join(CHANNEL);
    stack = await startProvisionStack({
      addresses: ["127.0.0.2", "127.0.0.3", "127.0.0.4"],
      irc: {
        ...ircSection(ircd),
        flood: { burst: 10, perSecond: 5 },
      },
      provision: {
        notices: { channels: [CHANNEL] },
        callback: { playbooks: { marker: { hostConfigKeySha256: sha256(CALLBACK_KEY) } } },
      },
    });
    await waitFor("the bot in #ops", () => stack.services().irc?.inChannel(CHANNEL) === true);
    await stack.addHost("web01", "127.0.0.2", { role: "web" });
  });

  after(async () => {
    await stack?.stop();
    await watcher?.quit();
    await ircd?.stop();
  });

  const run = async (token: string, text: string) => {
    const { status, body } = await stack.command(token, text);
    return { status, body: body as CommandBody };
  };
  const notices = () =>
    watcher.messages
      .filter((m) => m.kind === "notice" && m.from === BOT && m.target === CHANNEL)
      .map((m) => m.text);

  test("a permitted principal provisions web01 over HTTP with the key its agent registered", async () => {
    const { status, body } = await run(TOKENS.alice, "provision web01 marker");
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.ok, true, JSON.stringify(body));
    const line = body.lines?.[0] ?? "";
    assert.match(
      line,
      /^prov-\d+: marker on web01 succeeded: ok=1 changed=1 unreachable=0 failed=0 skipped=0 \(1 attempt\)$/,
    );
    assert.ok(stack.marked("web01"), "the playbook ran on the host");
    const provId = body.result?.data?.provision?.jobId ?? "";

    // The bot job keeps the provisioning id and the recap; `job prov-N` reads the queue.
    const job = await run(TOKENS.alice, `job ${body.jobId ?? ""}`);
    assert.equal(job.status, 200);
    assert.ok(job.body.lines?.includes(line), job.body.lines?.join("\n"));
    const prov = await run(TOKENS.alice, `job ${provId}`);
    assert.match(
      prov.body.lines?.[0] ?? "",
      /^prov-\d+ succeeded marker on web01 \(command by alice, /,
    );

    await waitFor("start and end notices", () => notices().length >= 2);
    assert.deepEqual(notices(), [
      `provision ${provId}: marker on web01 started (attempt 1, command)`,
      `provision ${provId}: marker on web01 succeeded: ok=1 changed=1 unreachable=0 failed=0 skipped=0`,
    ]);
  });

  test("a principal without a provision grant is refused before anything is queued", async () => {
    const { status, body } = await run(TOKENS.bob, "provision web01 marker");
    assert.equal(status, 403, JSON.stringify(body));
    assert.equal(body.error?.code, "E_PERMISSION_DENIED");
    const next = await run(TOKENS.alice, "job prov-2");
    assert.equal(next.status, 404, "only the first test's run was ever queued");
  });

  test("a grant pinning check: yes turns the run into a dry run", async () => {
    rmSync(join(stack.dirs.out, "web01.txt"));
    const { body } = await run(TOKENS.carol, "provision web01 marker");
    assert.match(
      body.lines?.[0] ?? "",
      /^prov-\d+: marker \(check\) on web01 succeeded: ok=1 changed=1 /,
    );
    assert.equal(stack.marked("web01"), false, "--check changed nothing");
    const bad = await run(TOKENS.alice, "provision web01 marker --chek");
    assert.equal(bad.body.error?.code, "E_BAD_ARGUMENT");
  });

  test("the callback is mounted on the HTTP server and sees the socket peer", async () => {
    const post = async (key: string) => {
      const res = await fetch(`${stack.services().httpUrl ?? ""}/provision/callback/marker`, {
        method: "POST",
        body: new URLSearchParams({ host_config_key: key }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, string> };
    };
    assert.deepEqual(await post("wrong"), {
      status: 403,
      body: { detail: "Invalid host_config_key." },
    });
    // 127.0.0.1 is no registered host's address (web01 registered 127.0.0.2).
    assert.deepEqual(await post(CALLBACK_KEY), {
      status: 400,
      body: { msg: "No matching host could be found!" },
    });
  });

  test("changed host keys are refused: the sshd presents another key, or an agent re-registers with one", async () => {
    // web02's agent registered its own key, but the address answers with the sshd's key.
    await stack.addHost("web02", "127.0.0.3", { role: "web" }, makeKey("ed25519", "web02"));
    const mismatch = await run(TOKENS.alice, "provision web02 marker");
    assert.equal(mismatch.body.ok, false);
    assert.match(
      mismatch.body.lines?.[0] ?? "",
      /^prov-\d+: marker on web02 refused: host key for web02 changed: presented SHA256:\S+, pinned SHA256:\S+; refusing to run/,
    );

    // web03 is pinned to the sshd key, then an impostor registers web03 with another key.
    const original = await stack.addHost("web03", "127.0.0.4", { role: "web" });
    const controller = stack.fleet.controller();
    await waitFor("web03 pinned", async () =>
      (await controller.nodes()).some((n) => n.hostname === "web03"),
    );
    await original.stop();
    await stack.addHost("web03", "127.0.0.4", { role: "web" }, makeKey("ed25519", "impostor"));
    // The impostor displaces nothing: web03 stays accepted, absent, and is not provisioned.
    await waitFor("web03 absent from the verified registry", async () =>
      (await controller.nodes()).some((n) => n.hostname === "web03" && n.absent === true),
    );
    const impostor = await run(TOKENS.alice, "provision web03 marker");
    assert.equal(impostor.body.ok, false);
    assert.match(
      impostor.body.lines?.[0] ?? "",
      /^prov-\d+: marker on web03 refused: host "web03" is absent/,
    );
    assert.equal(stack.marked("web02") || stack.marked("web03"), false);
  });
});
