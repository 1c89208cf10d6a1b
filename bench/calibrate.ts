/**
 * CPU cost of one SSHSIG sign and verify (ed25519, the real functions) on this machine now,
 * and what that implies for a round: the least CPU the signed round must add to the floor,
 * and the best ratio to the floor that `cores` cores could then reach.
 */
import { REPLY_NAMESPACE } from "../executors/fleet/protocol/channels.ts";
import { signSshsig, verifySshsig } from "../executors/fleet/protocol/sshsig.ts";
import { newKey } from "./sim.ts";

const OPS = 400;
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

function cpuUsPerOp(op: () => void): number {
  for (let i = 0; i < WARM_UP_OPS; i++) op();
  const start = process.cpuUsage();
  for (let i = 0; i < OPS; i++) op();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / OPS;
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

/** Least crypto CPU (ms) one signed round adds, given the starts the controller skipped. */
export function cryptoPerRound(cost: CryptoCost, agents: number, startsSkipped: number) {
  const agentMs = (agents * cost.verifyUs + 2 * agents * cost.signUs) / 1000;
  const controllerMs = ((2 * agents - startsSkipped) * cost.verifyUs) / 1000;
  return { agentMs, controllerMs, totalMs: agentMs + controllerMs };
}
