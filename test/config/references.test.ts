/**
 * `commodore config check` checks what a configuration refers to, reporting each problem as
 * `file:line: path: expected …, found …`: keys (readable, parsing, only their owner may access
 * them), allowed_signers and known_hosts (parsing within their limits), the playbook directory
 * and the playbooks it names, token variables. A YAML alias bomb is a configuration error too
 * (exit 78), not an internal one.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { main } from "../../cli/main.ts";
import { signerLine } from "../../executors/fleet/keygen.ts";
import { makeKey } from "../harness/ssh-keys.ts";
import { tempDir } from "../harness/tmp.ts";

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env,
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}

/** The "billion laughs": nine aliases of nine, nine levels deep. */
function aliasBomb(): string {
  const lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++)
    lines.push(
      `l${i}: &l${i} [${Array(9)
        .fill(`*l${i - 1}`)
        .join(",")}]`,
    );
  return `${lines.join("\n")}\n`;
}

describe("config check: what the file refers to", () => {
  const dir = tempDir("commodore-refs-");
  const controller = makeKey("ed25519", "controller");
  const voice = makeKey("ed25519", "voice");
  const host = makeKey("ed25519", "host");
  const provisionKey = makeKey("ed25519", "provision");
  const playbooks = join(dir, "playbooks");
  mkdirSync(playbooks);
  writeFileSync(join(playbooks, "web.yml"), "- hosts: all\n");
  const knownHosts = join(dir, "known_hosts");
  const signers = join(dir, "allowed_signers");
  const enrollment = join(dir, "enrollment_signers");
  const config = (overrides: { signers?: string; enrollment?: string } = {}) =>
    [
      "principals:",
      "  - id: ci",
      "    http: { tokenEnv: CI_TOKEN }",
      "controller:",
      `  keyPath: ${controller.privatePath}`,
      "  signers:",
      `    voice: { keyPath: ${voice.privatePath}, principal: voice }`,
      `  knownHostsPath: ${knownHosts}`,
      `  enrollmentSignersPath: ${overrides.enrollment ?? enrollment}`,
      "agent:",
      "  local: true",
      `  hostKeyPath: ${host.privatePath}`,
      `  allowedSignersPath: ${overrides.signers ?? signers}`,
      `  hostCertPath: ${join(dir, "host-cert.pub")}`,
      "provision:",
      `  playbookDir: ${playbooks}`,
      `  logDir: ${join(dir, "logs")}`,
      "  remoteUser: deploy",
      `  privateKey: ${provisionKey.privatePath}`,
      "  defaultPlaybook: web",
      "  firstBoot:",
      "    map: { db: database }",
      "",
    ].join("\n");

  test("every broken reference is reported at its line", async () => {
    chmodSync(controller.privatePath, 0o644);
    chmodSync(provisionKey.privatePath, 0o640);
    writeFileSync(knownHosts, `www01 ${host.publicLine}\nwww02 ssh-ed25519\n`);
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    const file = join(dir, "broken.yaml");
    writeFileSync(file, config({ signers: fifo }));
    const r = await cli(["config", "check", file]);
    assert.equal(r.code, 78, r.stderr);
    assert.deepEqual(r.stderr.trimEnd().split("\n"), [
      `invalid configuration in ${file}:`,
      `  ${file}:3: principals[0].http.tokenEnv: expected the name of a variable that is set (export it, or use tokenSha256), found CI_TOKEN, which is not set`,
      `  ${file}:5: controller.keyPath: expected a private key file only its owner may access (chmod 600 ${controller.privatePath}), found permissions 0644 for ${controller.privatePath}`,
      `  ${file}:8: controller.knownHostsPath: expected a readable known_hosts file, found ${knownHosts}:2: expected hostpatterns, key type and key data`,
      `  ${file}:9: controller.enrollmentSignersPath: expected a readable allowed_signers file, found ENOENT for ${enrollment}`,
      `  ${file}:13: agent.allowedSignersPath: expected a readable allowed_signers file, found not a regular file (a FIFO) for ${fifo}`,
      `  ${file}:14: agent.hostCertPath: expected a readable file, found ENOENT for ${join(dir, "host-cert.pub")}`,
      `  ${file}:19: provision.privateKey: expected a private key file only its owner may access (chmod 600 ${provisionKey.privatePath}), found permissions 0640 for ${provisionKey.privatePath}`,
      `  ${file}:22: provision.firstBoot.map.db: expected a playbook in ${playbooks}, found playbook "database" is not in ${playbooks} (looked for database.yml and database.yaml)`,
    ]);
    const skipped = await cli(["config", "check", "--skip-files", file]);
    assert.equal(skipped.code, 78);
    assert.match(skipped.stderr, /tokenEnv/);
    assert.doesNotMatch(skipped.stderr, /keyPath|known_hosts|allowed_signers|playbook/);
  });

  test("a huge allowed_signers is refused by file and line; fixed references pass", async () => {
    chmodSync(controller.privatePath, 0o600);
    chmodSync(provisionKey.privatePath, 0o600);
    writeFileSync(knownHosts, `www01 ${host.publicLine}\n`);
    writeFileSync(join(playbooks, "database.yaml"), "- hosts: all\n");
    writeFileSync(join(dir, "host-cert.pub"), "\n");
    const trusted = `${signerLine("ops", controller.publicLine)}\n`;
    writeFileSync(enrollment, trusted);
    const huge = join(dir, "huge_signers");
    writeFileSync(huge, trusted.repeat(Math.ceil((5 * 1024 * 1024) / trusted.length)));
    const file = join(dir, "huge.yaml");
    writeFileSync(file, config({ signers: huge }));
    const r = await cli(["config", "check", file], { CI_TOKEN: "t" });
    assert.equal(r.code, 78);
    assert.match(
      r.stderr,
      new RegExp(
        `${file}:13: agent\\.allowedSignersPath: expected a readable allowed_signers file, found ${huge}:\\d+: the file is larger than 4 MiB, the most it may hold\\n`,
      ),
    );
    writeFileSync(signers, trusted);
    const good = join(dir, "good.yaml");
    writeFileSync(good, config());
    const ok = await cli(["config", "check", good], { CI_TOKEN: "t" });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, `${good}: configuration is valid\n`);
  });

  test("a YAML alias bomb is a configuration error (78) for config check and start alike", async () => {
    const file = join(dir, "bomb.yaml");
    writeFileSync(file, aliasBomb());
    const expected = `${file}: (file): expected YAML with at most 100 alias expansions, found aliases that expand further (an alias bomb)`;
    const checked = await cli(["config", "check", file]);
    assert.equal(checked.code, 78);
    assert.deepEqual(checked.stderr.split("\n").slice(0, 2), [
      `invalid configuration in ${file}:`,
      `  ${expected}`,
    ]);
    const started = await cli(["start", "--config", file]);
    assert.equal(started.code, 78);
    assert.ok(started.stderr.includes(expected), started.stderr);
    assert.ok(started.stderr.includes("[E_CONFIG_INVALID]"), started.stderr);
  });
});
