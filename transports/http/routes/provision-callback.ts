/**
 * `POST /provision/callback[/<playbook>]`, AWX-style: `host_config_key` (form or JSON, as AWX
 * callers send either), optional `playbook` and `extra_vars`. The provisioning executor decides
 * (executors/provision/callback.ts); this answers in AWX's shapes and statuses, which existing
 * callback scripts parse.
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type {
  CallbackOutcome,
  CallbackRequest,
  ProvisionCallback,
} from "../../../executors/provision/index.ts";
import { MetricsRegistry } from "../../../lib/metrics.ts";

/** Largest accepted request body. */
export const MAX_CALLBACK_BODY_BYTES = 16 * 1024;

const CREATED = 201;
const BAD_REQUEST = 400;
const FORBIDDEN = 403;
const TOO_LARGE = 413;
const INTERNAL = 500;
const UNAVAILABLE = 503;

/** AWX's status for each outcome. */
const STATUS: Readonly<Record<CallbackOutcome["result"], 201 | 400 | 403 | 500 | 503>> = {
  queued: CREATED,
  no_playbook: BAD_REQUEST,
  bad_key: FORBIDDEN,
  extra_vars: BAD_REQUEST,
  multiple: BAD_REQUEST,
  no_match: BAD_REQUEST,
  pending: BAD_REQUEST,
  error: INTERNAL,
  unavailable: UNAVAILABLE,
};

/** What the routes need. */
export interface CallbackRouteDeps {
  readonly callback: ProvisionCallback;
  /** The socket peer address (for @hono/node-server: `c.env.incoming.socket.remoteAddress`). */
  readonly remoteAddress: (c: Context) => string | undefined;
  readonly metrics?: MetricsRegistry;
}

async function readBody(
  c: Context,
): Promise<Omit<CallbackRequest, "peer" | "forwardedFor"> | undefined> {
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
  const playbook = c.req.param("playbook") ?? raw["playbook"];
  if (typeof key !== "string") return undefined;
  return {
    key,
    playbook: typeof playbook === "string" ? playbook : undefined,
    extraVars: raw["extra_vars"],
  };
}

/** Creates the hono sub-app to mount at `/provision/callback`. */
export function createProvisionCallbackRoutes(deps: CallbackRouteDeps): Hono {
  const counter = (deps.metrics ?? new MetricsRegistry()).counter(
    "commodore_provision_callbacks_total",
    "Provisioning callbacks, by result",
  );
  const handle = async (c: Context) => {
    const body = await readBody(c);
    if (!body) {
      counter.inc({ result: "malformed" });
      return c.json({ msg: "host_config_key is required." }, BAD_REQUEST);
    }
    const outcome = await deps.callback({
      ...body,
      peer: deps.remoteAddress(c),
      forwardedFor: c.req.header("x-forwarded-for"),
    });
    counter.inc({ result: outcome.result === "no_playbook" ? "malformed" : outcome.result });
    const status = STATUS[outcome.result];
    if (outcome.result === "queued") {
      const { jobId, host, playbook } = outcome;
      return c.json({ id: jobId, job: jobId, host, playbook }, status);
    }
    return c.json(
      outcome.result === "bad_key" ? { detail: outcome.detail } : { msg: outcome.detail },
      status,
    );
  };
  const app = new Hono();
  app.use(
    "*",
    bodyLimit({
      maxSize: MAX_CALLBACK_BODY_BYTES,
      onError: (c) => c.json({ msg: "Request body too large." }, TOO_LARGE),
    }),
  );
  app.post("/", handle);
  app.post("/:playbook", handle);
  return app;
}
