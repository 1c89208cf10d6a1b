/**
 * Simulated fleets for the benchmark: many agents in one process, each with its own ed25519
 * key, sharing a few Redis connections. `signed` uses the real SSHSIG security; `floor` runs the
 * same code with signing and verification replaced by no-ops.
 */
import { generateKeyPairSync } from "node:crypto";
import { Redis } from "ioredis";
import sshpk from "sshpk";
import { createAgent, type Agent } from "../executors/fleet/agent/agent.ts";
import { sshAgentSecurity, type AgentSecurity } from "../executors/fleet/agent/security.ts";
import {
  sshControllerSecurity,
  type ControllerSecurity,
} from "../executors/fleet/controller/security.ts";
import { signerLine } from "../executors/fleet/keygen.ts";
import { parseAllowedSigners } from "../executors/fleet/protocol/allowed-signers.ts";
import type { PayloadSigner, PayloadVerifier } from "../executors/fleet/protocol/auth.ts";
import { parsePrivateKey, type PrivateKeyInfo } from "../executors/fleet/protocol/keys.ts";
import { createBus, type PubSubBus } from "../lib/redis/bus.ts";

/** With or without cryptography. */
export type Mode = "signed" | "floor";

/** Agents sharing one publisher and one subscriber connection. */
const AGENTS_PER_CONNECTION = 50;

/** A fresh ed25519 key as Commodore loads it from an OpenSSH file. */
export function newKey(): PrivateKeyInfo {
  const { privateKey } = generateKeyPairSync("ed25519");
  const openssh = sshpk
    .parsePrivateKey(privateKey.export({ format: "pem", type: "pkcs8" }), "pkcs8")
    .toString("openssh");
  return parsePrivateKey(openssh);
}

const noSign: PayloadSigner = { sign: () => "" };
const noVerify: PayloadVerifier = { verify: () => undefined };

/** Controller security for `mode`. */
export function controllerSecurity(mode: Mode, key: PrivateKeyInfo): ControllerSecurity {
  if (mode === "signed") return sshControllerSecurity(key);
  return { requestSigner: noSign, replyVerifier: () => noVerify, registrationVerifier: noVerify };
}

function agentSecurity(mode: Mode, key: PrivateKeyInfo, controller: PrivateKeyInfo): AgentSecurity {
  if (mode === "signed") {
    const signers = parseAllowedSigners(signerLine("bench", controller.public.line));
    return sshAgentSecurity(key, () => signers);
  }
  return {
    publicKey: key.public.line,
    fingerprint: key.public.fingerprint,
    requestVerifier: noVerify,
    replySigner: noSign,
    registrationSigner: noSign,
  };
}

/** A running simulated fleet. */
export interface SimFleet {
  readonly agents: readonly Agent[];
  stop(): Promise<void>;
}

/** Starts `keys.length` agents under `prefix`. */
export async function startSimFleet(
  url: string,
  prefix: string,
  mode: Mode,
  keys: readonly PrivateKeyInfo[],
  controller: PrivateKeyInfo,
): Promise<SimFleet> {
  const connections: Redis[] = [];
  const agents: Agent[] = [];
  const buses: PubSubBus[] = [];
  let pub: Redis | undefined;
  let bus: PubSubBus | undefined;
  for (const [i, key] of keys.entries()) {
    if (i % AGENTS_PER_CONNECTION === 0) {
      pub = new Redis(url);
      pub.setMaxListeners(0);
      pub.on("error", (err: Error) => process.stderr.write(`bench redis error: ${err.message}\n`));
      bus = createBus(pub);
      connections.push(pub);
      buses.push(bus);
    }
    if (!pub || !bus) throw new Error("no connection");
    const agent = createAgent({
      prefix,
      hostname: `sim${String(i).padStart(4, "0")}`,
      facts: { role: i % 2 === 0 ? "web" : "db" },
      redis: pub,
      bus,
      security: agentSecurity(mode, key, controller),
      concurrency: 4,
    });
    await agent.start();
    agents.push(agent);
  }
  return {
    agents,
    async stop() {
      await Promise.all(agents.map((a) => a.stop()));
      await Promise.all(buses.map((b) => b.close()));
      for (const c of connections) c.disconnect();
    },
  };
}
