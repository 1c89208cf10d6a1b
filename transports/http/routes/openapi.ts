/**
 * `GET /openapi.json`: an OpenAPI 3 description of the JSON API, its request bodies generated
 * from the very zod schemas the routes validate with, so the document cannot drift from the
 * code. It is served without a token, like `/healthz`: it describes, it grants nothing.
 */
import { zodToJsonSchema } from "zod-to-json-schema";
import type { ZodTypeAny } from "zod";
import { COMMODORE_VERSION } from "../../../lib/version.ts";
import type { HttpApp } from "../context.ts";
import { commandBody } from "./commands.ts";
import { fleetBody } from "./fleet.ts";
import { rerunBody } from "./jobs.ts";

/** Where the document is served. */
export const OPENAPI_PATH = "/openapi.json";

const schema = (s: ZodTypeAny) => zodToJsonSchema(s, { target: "openApi3", $refStrategy: "none" });

const ERROR = { $ref: "#/components/schemas/Error" };
const json = (s: object, description: string) => ({
  description,
  content: { "application/json": { schema: s } },
});
const errors = {
  "400": json(ERROR, "invalid request or command, or not valid HTTP/1.1"),
  "401": json(ERROR, "missing or unknown bearer token"),
  "403": json(ERROR, "not permitted, or a cross-origin request"),
  "408": json(ERROR, "the request did not arrive in time"),
  "415": json(ERROR, "the body is not application/json"),
  "429": json(ERROR, "rate limited"),
  "431": json(ERROR, "the request line and headers exceed 16 KiB"),
};
const ANY = { type: "object", additionalProperties: true };
const prefer = {
  name: "Prefer",
  in: "header",
  required: false,
  description: "respond-async: answer 202 with Location: /jobs/<id> once the job exists",
  schema: { type: "string", example: "respond-async" },
};
const jobId = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^j[0-9a-f]{12}$" },
};
/** `DELETE /jobs/{id}` and `POST /jobs/{id}/cancel`. */
const cancelOperation = {
  summary: "Cancel a running job: no new batch starts, agents stop the provider",
  parameters: [jobId],
  responses: {
    "200": json(ANY, "how the job ended (or that it is still stopping)"),
    "404": json(ERROR, "no such job"),
    "409": json(ERROR, "the job already finished"),
    ...errors,
  },
};
const started = json(
  {
    type: "object",
    properties: { jobId: { type: "string" }, job: { type: "string" }, events: { type: "string" } },
  },
  "started asynchronously (Prefer: respond-async), or waiting for `confirm <code>`",
);

/** The document. */
export function openApiDocument(): Record<string, unknown> {
  return {
    openapi: "3.0.3",
    info: {
      title: "Commodore",
      version: COMMODORE_VERSION,
      description: "Chat-ops bot and signed fleet command-and-control (docs/http.md).",
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["code", "message"],
              properties: {
                code: { type: "string", example: "E_PERMISSION_DENIED" },
                message: { type: "string" },
                hint: { type: "string" },
              },
            },
          },
        },
      },
    },
    security: [{ bearer: [] }],
    paths: {
      "/fleet": {
        post: {
          summary: "Run a provider on the fleet",
          parameters: [prefer],
          requestBody: {
            required: true,
            content: { "application/json": { schema: schema(fleetBody) } },
          },
          responses: { "200": json(ANY, "the fleet result"), "202": started, ...errors },
        },
      },
      "/commands": {
        post: {
          summary: "Run any command as typed on IRC",
          parameters: [prefer],
          requestBody: {
            required: true,
            content: { "application/json": { schema: schema(commandBody) } },
          },
          responses: { "200": json(ANY, "the command result"), "202": started, ...errors },
        },
      },
      "/jobs": {
        get: { summary: "Recent jobs", responses: { "200": json(ANY, "jobs"), ...errors } },
      },
      "/jobs/{id}": {
        get: {
          summary: "One job",
          parameters: [jobId],
          responses: {
            "200": json(ANY, "the job and its events"),
            "404": json(ERROR, "no such job"),
            ...errors,
          },
        },
        delete: cancelOperation,
      },
      "/jobs/{id}/rerun": {
        post: {
          summary: "Run a fleet job again on its failed, silent or all hosts",
          parameters: [jobId],
          requestBody: {
            required: true,
            content: { "application/json": { schema: schema(rerunBody) } },
          },
          responses: {
            "200": json(ANY, "the new job's result"),
            "404": json(ERROR, "no such job"),
            ...errors,
          },
        },
      },
      "/jobs/{id}/cancel": { post: cancelOperation },
      "/jobs/{id}/events": {
        get: {
          summary: "A job's progress as server-sent events (snapshot, event…, end)",
          parameters: [jobId],
          responses: {
            "200": {
              description: "event stream",
              content: { "text/event-stream": { schema: { type: "string" } } },
            },
            "404": json(ERROR, "no such job"),
            ...errors,
          },
        },
      },
      "/nodes": {
        get: { summary: "Accepted hosts", responses: { "200": json(ANY, "nodes"), ...errors } },
      },
      "/nodes/pending": {
        get: {
          summary: "Host keys waiting for acceptance",
          responses: { "200": json(ANY, "nodes"), ...errors },
        },
      },
      "/healthz": {
        get: {
          summary: "Health",
          security: [],
          responses: { "200": json(ANY, "ok"), "503": json(ANY, "degraded") },
        },
      },
      "/metrics": {
        get: {
          summary: "Prometheus metrics",
          security: [],
          responses: {
            "200": {
              description: "metrics",
              content: { "text/plain": { schema: { type: "string" } } },
            },
          },
        },
      },
    },
  };
}

/** Registers `GET /openapi.json`. */
export function openApiRoute(app: HttpApp): void {
  const document = openApiDocument();
  app.get(OPENAPI_PATH, (c) => c.json(document));
}
