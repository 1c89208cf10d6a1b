/**
 * AWX-style provisioning callback: `POST /provision/callback[/<playbook>]` with
 * `host_config_key` (form or JSON). The caller's address must match exactly one registered
 * host; the run is queued like any other trigger and the reply carries the job id.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { CommodoreError, errorMessage } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";
import { createCallbackKeys } from "./callback-keys.ts";
import { RunAlreadyPendingError } from "./errors.ts";
import { checkExtraVars } from "./extra-vars.ts";
import { clientAddress } from "./forwarded.ts";
import { hostsWithAddress, type HostDirectory } from "./hosts.ts";
import { networkSet } from "./net.ts";
import type { ProvisionOptions } from "./options.ts";
import type { ProvisionQueue } from "./queue/queue.ts";
import type { ExtraVars } from "./types.ts";

/** Largest accepted request body. */
export const MAX_CALLBACK_BODY_BYTES = 16 * 1024;

/** AWX's wording, which existing callback scripts look for. */
export const CALLBACK_MESSAGES = {
  noMatch: "No matching host could be found!",
  multiple: "Multiple hosts matched the request!",
  pending: "Host callback job already pending.",
  badKey: "Invalid host_config_key.",
} as const;

/** What the callback routes need. */
export interface CallbackDeps {
  readonly options: Pick<ProvisionOptions, "callback" | "extraVarsAllowList">;
  readonly queue: Pick<ProvisionQueue, "enqueue">;
  readonly directory: HostDirectory;
  /** The socket peer address (for @hono/node-server: `c.env.incoming.socket.remoteAddress`). */
  readonly remoteAddress: (c: Context) => string | undefined;
  readonly logger: Logger;
  readonly metrics?: MetricsRegistry;
  readonly env?: NodeJS.ProcessEnv;
}

interface CallbackBody {
  readonly key: string;
  readonly playbook: string | undefined;
  readonly extraVars: unknown;
}

async function readBody(c: Context): Promise<CallbackBody | undefined> {
  const type = c.req.header("content-type") ?? "";
  let raw: Record<string, unknown>;
  if (type.includes("application/json")) {
    const parsed: unknown = await c.req.json().catch(() => undefined);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return undefined;
    raw = parsed as Record<string, unknown>;
  } else {
    raw = await c.req.parseBody().catch(() => ({}));
  }
  const key = raw["host_config_key"];
  const playbook = raw["playbook"];
  if (typeof key !== "string") return undefined;
  return {
    key,
    playbook: typeof playbook === "string" ? playbook : undefined,
    extraVars: raw["extra_vars"],
  };
}

/** Creates the hono sub-app to mount at `/provision/callback`. */
export function createProvisionCallbackRoutes(deps: CallbackDeps): Hono {
  const log = deps.logger.child({ component: "provision-callback" });
  const keys = createCallbackKeys(deps.options.callback, deps.env ?? process.env, log);
  const proxies = networkSet(deps.options.callback.trustedProxies);
  const counter = (deps.metrics ?? new MetricsRegistry()).counter(
    "commodore_provision_callbacks_total",
    "Provisioning callbacks, by result",
  );
  const reply = (c: Context, status: 201 | 400 | 403 | 500 | 503, body: object, result: string) => {
    counter.inc({ result });
    return c.json(body, status);
  };

  const handle = async (c: Context) => {
    const body = await readBody(c);
    if (!body) return reply(c, 400, { msg: "host_config_key is required." }, "malformed");
    const playbook =
      c.req.param("playbook") ??
      body.playbook ??
      (keys.playbooks.length === 1 ? keys.playbooks[0] : undefined);
    if (playbook === undefined) {
      return reply(c, 400, { msg: "playbook is required (path or body)." }, "malformed");
    }
    if (!keys.verify(playbook, body.key)) {
      log.warn("provision callback with a bad key", { playbook, peer: deps.remoteAddress(c) });
      return reply(c, 403, { detail: CALLBACK_MESSAGES.badKey }, "bad_key");
    }
    let extraVars: ExtraVars;
    try {
      extraVars = checkExtraVars(body.extraVars, deps.options.extraVarsAllowList);
    } catch (err) {
      return reply(c, 400, { msg: errorMessage(err) }, "extra_vars");
    }
    const address = clientAddress(deps.remoteAddress(c), c.req.header("x-forwarded-for"), proxies);
    const matches =
      address === undefined ? [] : hostsWithAddress(await deps.directory.list(), address);
    if (matches.length > 1) return reply(c, 400, { msg: CALLBACK_MESSAGES.multiple }, "multiple");
    const host = matches[0];
    if (!host || address === undefined) {
      log.info("provision callback from an unknown address", { address, playbook });
      return reply(c, 400, { msg: CALLBACK_MESSAGES.noMatch }, "no_match");
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
      return reply(c, 201, { id: jobId, job: jobId, host: host.hostname, playbook }, "queued");
    } catch (err) {
      if (err instanceof RunAlreadyPendingError) {
        return reply(c, 400, { msg: CALLBACK_MESSAGES.pending }, "pending");
      }
      log.error("provision callback could not queue", { playbook, error: errorMessage(err) });
      if (err instanceof CommodoreError) {
        return reply(c, 500, { msg: "Provisioning could not queue this request." }, "error");
      }
      return reply(c, 503, { msg: "Provisioning queue unavailable, retry later." }, "unavailable");
    }
  };

  const app = new Hono();
  app.use(
    "*",
    bodyLimit({
      maxSize: MAX_CALLBACK_BODY_BYTES,
      onError: (c) => c.json({ msg: "Request body too large." }, 413),
    }),
  );
  app.post("/", handle);
  app.post("/:playbook", handle);
  return app;
}
