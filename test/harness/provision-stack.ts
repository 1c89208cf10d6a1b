/**
 * The whole provisioning stack for full-stack tests: a real redis-server and controller key
 * (the fleet harness), a real sshd whose host key the test's agents register (so the key
 * provisioning pins is the one ssh sees), a marker playbook, and `startServices` — the same
 * code as `commodore start` — with a `provision` section, serving HTTP on a free port.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startServices, type Services } from "../../app/services.ts";
import { configSchema } from "../../config/schema.ts";
import { createAgent, type Agent } from "../../executors/fleet/agent/agent.ts";
import { silentLogger } from "../../lib/log.ts";
import { startFleet, type TestFleet } from "./agents.ts";
import { sshdProvisionInput } from "./provision-target.ts";
import { startSshd, type TestSshd } from "./sshd.ts";
import type { TestKey } from "./ssh-keys.ts";
import { tempDir } from "./tmp.ts";

/** Bearer tokens of the test principals. */
export const TOKENS = { alice: "alice-token", bob: "bob-token", carol: "carol-token" } as const;

/** Directories of one stack. */
export interface StackDirs {
  readonly playbooks: string;
  readonly logs: string;
  readonly work: string;
  /** Where the marker playbook writes `<host>.txt`. */
  readonly out: string;
  readonly state: string;
}

/** A running stack. */
export interface ProvisionStack {
  readonly fleet: TestFleet;
  readonly sshd: TestSshd;
  readonly dirs: StackDirs;
  /** The current services (replaced by {@link restart}). */
  services(): Services;
  /** POSTs `{command}` to /commands with `token`. */
  command(token: string, text: string): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Starts an agent for `hostname` at `address` (the sshd's host key unless `key` is given). */
  addHost(
    hostname: string,
    address: string,
    facts?: Record<string, string>,
    key?: TestKey,
  ): Promise<Agent>;
  /** True once the marker playbook ran on `hostname`. */
  marked(hostname: string): boolean;
  /** Stops the services (only). */
  stopServices(): Promise<void>;
  /** Starts the services again with the same configuration (after {@link stopServices}). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Options of {@link startProvisionStack}. */
export interface StackOptions {
  /** Loopback addresses the sshd listens on besides 127.0.0.1. */
  readonly addresses: readonly string[];
  /** Merged into the `provision` section. */
  readonly provision?: Record<string, unknown>;
  /** An `irc` section. */
  readonly irc?: Record<string, unknown>;
  /** Merged into the `controller` section (e.g. `enrollment: manual`). */
  readonly controller?: Record<string, unknown>;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

function markerPlaybook(out: string): string {
  return `- hosts: all
  gather_facts: false
  tasks:
    - name: write marker
      ansible.builtin.copy:
        content: "provisioned {{ inventory_hostname }}\\n"
        dest: "${out}/{{ inventory_hostname }}.txt"
`;
}

/** Starts redis, sshd and the services. */
export async function startProvisionStack(options: StackOptions): Promise<ProvisionStack> {
  const fleet = await startFleet([], "ops");
  const sshd = await startSshd(options.addresses);
  const root = tempDir("commodore-prov-stack-");
  const dirs: StackDirs = {
    playbooks: join(root, "playbooks"),
    logs: join(root, "logs"),
    work: join(root, "work"),
    out: join(root, "out"),
    state: join(root, "state"),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  writeFileSync(join(dirs.playbooks, "marker.yml"), markerPlaybook(dirs.out));
  const config = configSchema.parse({
    redis: { url: fleet.redis.url },
    // The stack's own agents are trusted on first sight (an operator's opt-in) unless a test
    // asks for the product default.
    controller: {
      keyPath: fleet.controllerKey.privatePath,
      principal: "ops",
      enrollment: "tofu",
      ...options.controller,
    },
    http: { listen: "127.0.0.1:0" },
    roles: {
      provisioner: {
        grants: [
          { command: "provision" },
          { command: "job" },
          { command: "nodes", args: { action: ["list", "pending", "accept"] } },
        ],
      },
      dryrun: { grants: [{ command: "provision", args: { check: "yes" } }] },
      viewer: { grants: [{ command: "job" }, { command: "nodes" }] },
    },
    principals: [
      { id: "alice", roles: ["provisioner"], http: { tokenSha256: sha256(TOKENS.alice) } },
      { id: "bob", roles: ["viewer"], http: { tokenSha256: sha256(TOKENS.bob) } },
      { id: "carol", roles: ["dryrun"], http: { tokenSha256: sha256(TOKENS.carol) } },
    ],
    ...(options.irc === undefined ? {} : { irc: options.irc }),
    provision: {
      ...sshdProvisionInput(dirs, sshd),
      retries: { max: 0 },
      ...options.provision,
    },
  });
  const start = () =>
    startServices({ config, stateDir: dirs.state, env: {}, logger: silentLogger });
  let services: Services | undefined = await start();
  const agents: Agent[] = [];
  const current = (): Services => {
    if (!services) throw new Error("services are stopped");
    return services;
  };
  return {
    fleet,
    sshd,
    dirs,
    services: current,
    async command(token, text) {
      const res = await fetch(`${current().httpUrl ?? ""}/commands`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ command: text }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    async addHost(hostname, address, facts = {}, key = sshd.hostKey) {
      const agent = createAgent({
        redisUrl: fleet.redis.url,
        hostname,
        hostKeyPath: key.privatePath,
        allowedSignersPath: fleet.allowedSignersPath,
        facts: { ...facts, addresses: address },
        logger: silentLogger,
      });
      await agent.start();
      agents.push(agent);
      return agent;
    },
    marked: (hostname) => existsSync(join(dirs.out, `${hostname}.txt`)),
    async stopServices() {
      await services?.stop();
      services = undefined;
    },
    async restart() {
      services = await start();
    },
    async stop() {
      await services?.stop();
      await Promise.all(agents.map((a) => a.stop()));
      await sshd.stop();
      await fleet.stop();
    },
  };
}
