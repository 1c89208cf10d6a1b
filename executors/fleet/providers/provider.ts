/**
 * What an agent can run. A provider validates its own arguments (throwing
 * {@link ProviderArgsError}), honours the abort signal, and returns an output with the
 * original protocol's `exit` and `short` plus its own fields.
 */
import { CommodoreError } from "../../../lib/errors.ts";

/** Exit code of a refusal: not authorized or not allowed by this agent's config (sysexits EX_NOPERM). */
export const EXIT_NOPERM = 77;

/** A provider's result (sent as `output` in the `complete` reply). */
export interface ProviderOutput {
  readonly exit: number;
  readonly short: string;
  readonly [field: string]: unknown;
}

/** What a provider is told about the request it serves. */
export interface ProviderContext {
  readonly hostname: string;
  /** The verified principal that signed the request. */
  readonly principal: string;
  /** The end user the controller says it acts for, when it says so. */
  readonly onBehalfOf: string | undefined;
  readonly requestId: string;
  /** The agent's current facts. */
  readonly facts: Readonly<Record<string, string>>;
  /** Aborted when the execution timeout passes or the agent stops. */
  readonly signal: AbortSignal;
}

/** One named action. */
export interface Provider {
  readonly name: string;
  /** Default execution timeout; a request may ask for another (capped by the agent). */
  readonly timeoutMs: number;
  /**
   * A liveness probe with no effect on the host: the agent logs serving it at debug, not info
   * (a fleet pinged every minute would otherwise write a journal line per host per minute).
   */
  readonly quiet?: boolean;
  run(args: readonly string[], ctx: ProviderContext): Promise<ProviderOutput>;
}

/** Providers by name. */
export type ProviderRegistry = ReadonlyMap<string, Provider>;

/** The request's arguments are not what the provider accepts. */
export class ProviderArgsError extends CommodoreError {
  constructor(provider: string, message: string, usage: string) {
    super("E_FLEET_PROVIDER_ARGS", `${provider}: ${message}`, { hint: `usage: ${usage}` });
  }
}

/** Throws unless `args` is empty. */
export function expectNoArgs(provider: string, args: readonly string[]): void {
  if (args.length > 0) {
    throw new ProviderArgsError(
      provider,
      `takes no arguments, got ${JSON.stringify(args.slice(0, 3))}`,
      provider,
    );
  }
}
