/**
 * A minimal Prometheus endpoint for processes without the HTTP transport (`commodore agent
 * --metrics-listen ADDR`): `GET /metrics` answers the registry's scrape, anything else 404.
 * It binds only where it is told; exposing it beyond loopback is the operator's choice.
 */
import { createServer, type Server } from "node:http";
import type { MetricsRegistry } from "../lib/metrics.ts";
import { InvalidArgumentError } from "./errors.ts";

/** `host:port`, IPv6 hosts in brackets. */
const LISTEN = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;
const MAX_PORT = 65_535;
const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The address it listens on, `host:port`. */
  readonly address: string;
  close(): Promise<void>;
}

/** Parses `--metrics-listen` into host and port. */
export function parseMetricsListen(command: string, value: string): { host: string; port: number } {
  const m = LISTEN.exec(value);
  const port = Number(m?.[2]);
  if (!m?.[1] || !Number.isInteger(port) || port > MAX_PORT)
    throw new InvalidArgumentError(
      command,
      "--metrics-listen",
      "host:port such as 127.0.0.1:9464",
      value,
    );
  return { host: m[1].replace(/^\[|\]$/g, ""), port };
}

/** Serves `metrics` at `http://host:port/metrics`. */
export async function startMetricsServer(
  metrics: MetricsRegistry,
  listen: { host: string; port: number },
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    metrics.scrape().then(
      (text) => res.writeHead(200, { "content-type": CONTENT_TYPE }).end(text),
      () => res.writeHead(500, { "content-type": "text/plain" }).end("scrape failed\n"),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const bound = server.address();
  const port = bound !== null && typeof bound === "object" ? bound.port : listen.port;
  const host = listen.host.includes(":") ? `[${listen.host}]` : listen.host;
  return {
    address: `${host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
