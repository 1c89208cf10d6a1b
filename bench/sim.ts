/**
 * Simulated fleets for the benchmark: many agents in one thread, each with its own ed25519
 * key, sharing a few Redis connections. `signed` uses the real SSHSIG security; `floor` runs the
 * same code with signing and verification replaced by no-ops.
 */
import { generateKeyPairSync } from "node:crypto";
import { Redis } from "ioredis";
import { createAgent, type Agent } from "../executors/fleet/agent/agent.ts";
import { sshAgentSecurity, type AgentSecurity } from "../executors/fleet/agent/security.ts";
import {
  sshControllerSecurity,
  type ControllerSecurity,
} from "../executors/fleet/controller/security.ts";
import { signerLine } from "../executors/fleet/keygen.ts";
import { parseAllowedSigners } from "../executors/fleet/protocol/allowed-signers.ts";
import type { PayloadSigner, PayloadVerifier } from "../executors/fleet/protocol/auth.ts";
import { publicKeyFromBlob, type PrivateKeyInfo } from "../executors/fleet/protocol/keys.ts";
import { sshString } from "../executors/fleet/protocol/wire.ts";
import { createBus, type PubSubBus } from "../lib/redis/bus.ts";

/** With or without cryptography. */
export type Mode = "signed" | "floor";

/** Agents sharing one publisher connection and the pub/sub bus over it. */
const AGENTS_PER_CONNECTION = 50;

/**
 * A fresh ed25519 key in Commodore's key form. Built straight from node:crypto (the public
 * half through the same blob parser replies are checked with) because converting through an
 * OpenSSH file makes sshpk derive the public key in JavaScript, seconds per thousand keys.
 */
export function newKey(): PrivateKeyInfo {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const x = Buffer.from(publicKey.export({ format: "jwk" }).x ?? "", "base64url");
  return {
    public: publicKeyFromBlob(Buffer.concat([sshString("ssh-ed25519"), sshString(x)])),
    key: privateKey,
  };
}

const noSign: PayloadSigner = { sign: () => "" };
const noVerify: PayloadVerifier = { verify: () => undefined };

/** Controller security for `mode`. */
export function controllerSecurity(mode: Mode, key: PrivateKeyInfo): ControllerSecurity {
  if (mode === "signed") return sshControllerSecurity(key);
  return {
    requestSigner: noSign,
    replyVerifier: () => noVerify,
    registrationVerifier: noVerify,
    enrollmentSigner: noSign,
    enrollmentVerifier: noVerify,
  };
}

function agentSecurity(mode: Mode, key: PrivateKeyInfo, controllerLine: string): AgentSecurity {
  if (mode === "signed") {
    const signers = parseAllowedSigners(signerLine("bench", controllerLine));
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

/** Starts `keys.length` agents named from `sim<first>` on under `prefix`. */
export async function startSimFleet(
  url: string,
  prefix: string,
  mode: Mode,
  keys: readonly PrivateKeyInfo[],
  controllerLine: string,
  first = 0,
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
      hostname: `sim${String(first + i).padStart(4, "0")}`,
      facts: { role: (first + i) % 2 === 0 ? "web" : "db" },
      redis: pub,
      bus,
      security: agentSecurity(mode, key, controllerLine),
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
