/**
 * AWX-style provisioning callback, without HTTP: a caller presents `host_config_key` for a
 * playbook (and optional extra vars); its address must match exactly one registered host; the
 * run is queued like any other trigger. The HTTP transport
 * (transports/http/routes/provision-callback.ts) turns requests into {@link CallbackRequest}s
 * and outcomes into AWX's answers.
 */
import { CommodoreError, errorMessage } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import { createCallbackKeys } from "./callback-keys.ts";
import { RunAlreadyPendingError } from "./errors.ts";
import { checkExtraVars } from "./extra-vars.ts";
import { clientAddress } from "./forwarded.ts";
import { hostsWithAddress, type HostDirectory } from "./hosts.ts";
import { networkSet } from "./net.ts";
import type { ProvisionOptions } from "./options.ts";
import type { ProvisionQueue } from "./queue/queue.ts";
import type { ExtraVars } from "./types.ts";

/** One callback as its transport read it. */
export interface CallbackRequest {
  readonly key: string;
  /** From the route or the body; default: the only configured callback playbook. */
  readonly playbook: string | undefined;
  readonly extraVars: unknown;
  /** The socket peer's address. */
  readonly peer: string | undefined;
  /** `X-Forwarded-For`, believed only from `callback.trustedProxies`. */
  readonly forwardedFor: string | undefined;
}

/** How a callback ended. */
export type CallbackOutcome =
  | {
      readonly result: "queued";
      readonly jobId: string;
      readonly host: string;
      readonly playbook: string;
    }
  | {
      readonly result:
        | "no_playbook"
        | "bad_key"
        | "extra_vars"
        | "multiple"
        | "no_match"
        | "pending"
        | "error"
        | "unavailable";
      /** Why, for the caller (AWX's wording where it has one). */
      readonly detail: string;
    };

/** AWX's wording, which existing callback scripts look for. */
export const CALLBACK_MESSAGES = {
  noMatch: "No matching host could be found!",
  multiple: "Multiple hosts matched the request!",
  pending: "Host callback job already pending.",
  badKey: "Invalid host_config_key.",
} as const;

/** What the callback needs. */
export interface CallbackDeps {
  readonly options: Pick<ProvisionOptions, "callback" | "extraVarsAllowList">;
  readonly queue: Pick<ProvisionQueue, "enqueue">;
  readonly directory: HostDirectory;
  readonly logger: Logger;
  readonly env?: NodeJS.ProcessEnv;
}

/** Handles callbacks. */
export type ProvisionCallback = (request: CallbackRequest) => Promise<CallbackOutcome>;

/** Creates the callback handler. */
export function createProvisionCallback(deps: CallbackDeps): ProvisionCallback {
  const log = deps.logger.child({ component: "provision-callback" });
  const keys = createCallbackKeys(deps.options.callback, deps.env ?? process.env, log);
  const proxies = networkSet(deps.options.callback.trustedProxies);
  return async (req) => {
    const playbook = req.playbook ?? (keys.playbooks.length === 1 ? keys.playbooks[0] : undefined);
    if (playbook === undefined)
      return { result: "no_playbook", detail: "playbook is required (path or body)." };
    if (!keys.verify(playbook, req.key)) {
      log.warn("provision callback with a bad key", { playbook, peer: req.peer });
      return { result: "bad_key", detail: CALLBACK_MESSAGES.badKey };
    }
    let extraVars: ExtraVars;
    try {
      extraVars = checkExtraVars(req.extraVars, deps.options.extraVarsAllowList);
    } catch (err) {
      return { result: "extra_vars", detail: errorMessage(err) };
    }
    const address = clientAddress(req.peer, req.forwardedFor, proxies);
    const matches =
      address === undefined ? [] : hostsWithAddress(await deps.directory.list(), address);
    if (matches.length > 1) return { result: "multiple", detail: CALLBACK_MESSAGES.multiple };
    const host = matches[0];
    if (!host || address === undefined) {
      log.info("provision callback from an unknown address", { address, playbook });
      return { result: "no_match", detail: CALLBACK_MESSAGES.noMatch };
    }
    try {
      const { jobId } = await deps.queue.enqueue({
        host: host.hostname,
        address,
        playbook,
        trigger: "callback",
        check: false,
        requestedBy: `callback:${address}`,
        ...(Object.keys(extraVars).length > 0 ? { extraVars } : {}),
      });
      log.info("provision callback queued", { jobId, host: host.hostname, address, playbook });
      return { result: "queued", jobId, host: host.hostname, playbook };
    } catch (err) {
      if (err instanceof RunAlreadyPendingError)
        return { result: "pending", detail: CALLBACK_MESSAGES.pending };
      log.error("provision callback could not queue", { playbook, error: err });
      return err instanceof CommodoreError
        ? { result: "error", detail: "Provisioning could not queue this request." }
        : { result: "unavailable", detail: "Provisioning queue unavailable, retry later." };
    }
  };
}
