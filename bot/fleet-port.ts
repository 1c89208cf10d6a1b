/**
 * The part of the fleet executor the bot uses. The fleet package's executor satisfies it;
 * tests may pass any object with these methods.
 */
import type { Executor } from "../executors/executor.ts";
import type {
  FleetEnrollment,
  FactFilter,
  FleetProgress,
  FleetRequest,
  FleetResult,
  NodeInfo,
  TargetRefinement,
} from "../executors/fleet/index.ts";

/** What the bot needs from the fleet: run requests, list nodes, predict targets, enroll hosts. */
export interface FleetPort extends Executor<FleetRequest, FleetResult, FleetProgress> {
  /** Every registered node whose key is accepted. */
  nodes(): Promise<NodeInfo[]>;
  /** Pending and rejected host keys, and the operator's enrollment actions. */
  readonly enrollment: FleetEnrollment;
  /** Hostnames the registry expects to match `where` (and the optional conditions/identities). */
  expectedHosts(where: FactFilter, refine?: TargetRefinement): Promise<string[]>;
}
