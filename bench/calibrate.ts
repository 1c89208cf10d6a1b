/**
 * CPU cost of SSHSIG signing and verifying (ed25519) on this machine now: the whole SSHSIG
 * functions, and the physical floor of a reply check, one bare `crypto.verify` of an ed25519
 * signature over an SSHSIG signed-data blob with a ready KeyObject. Also what those costs imply
 * for a round: the least CPU a signed round must add to the floor.
 */
import { sign as cryptoSign, verify as cryptoVerify } from "node:crypto";
import { REPLY_NAMESPACE } from "../executors/fleet/protocol/channels.ts";
import { SIGN_HASH, signSshsig, verifySshsig } from "../executors/fleet/protocol/sshsig.ts";
import { signedData } from "../executors/fleet/protocol/sshsig-data.ts";
import { newKey } from "./sim.ts";

const OPS = 400;
/** Bare verifies per measurement (about 0.1 s). */
const BARE_OPS = 1_000;
/** Operations run before measuring, so the JIT and key caches are warm as in a real round. */
const WARM_UP_OPS = 200;
const SAMPLE_PAYLOAD = JSON.stringify({
  protocol: 1,
  type: "reply",
  status: "complete",
  pad: "x".repeat(200),
});

/** Microseconds per operation. */
export interface CryptoCost {
  readonly signUs: number;
  readonly verifyUs: number;
}

function cpuUsPerOp(op: () => void, ops = OPS): number {
  for (let i = 0; i < WARM_UP_OPS; i++) op();
  const start = process.cpuUsage();
  for (let i = 0; i < ops; i++) op();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / ops;
}

/** CPU time of `OPS` signs and verifies (CPU, not wall: other load on the machine waits). */
export function calibrate(): CryptoCost {
  const key = newKey();
  const blob = signSshsig(key, REPLY_NAMESPACE, SAMPLE_PAYLOAD);
  return {
    signUs: cpuUsPerOp(() => signSshsig(key, REPLY_NAMESPACE, SAMPLE_PAYLOAD)),
    verifyUs: cpuUsPerOp(() => verifySshsig(blob, REPLY_NAMESPACE, SAMPLE_PAYLOAD)),
  };
}

/**
 * CPU microseconds of one bare ed25519 verify of an SSHSIG signed-data blob, the least any
 * reply check can cost; measured on this thread, to be compared with the controller's CPU per
 * verified reply measured around it.
 */
export function bareVerifyUs(): number {
  const key = newKey();
  const data = signedData(REPLY_NAMESPACE, SIGN_HASH, SAMPLE_PAYLOAD);
  const signature = cryptoSign(null, data, key.key);
  return cpuUsPerOp(() => cryptoVerify(null, data, key.public.key, signature), BARE_OPS);
}

/**
 * Least crypto CPU (ms) one signed round adds: every agent verifies the request and signs each
 * reply it sends (`sent`), and the controller verifies `verified` of them (the rest are starts
 * it skipped unverified).
 */
export function cryptoPerRound(cost: CryptoCost, agents: number, sent: number, verified: number) {
  const agentMs = (agents * cost.verifyUs + sent * cost.signUs) / 1000;
  const controllerMs = (verified * cost.verifyUs) / 1000;
  return { agentMs, controllerMs, totalMs: agentMs + controllerMs };
}
