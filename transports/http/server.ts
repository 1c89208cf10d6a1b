/**
 * Serves an HTTP app with @hono/node-server on a listen address.
 */
import { serve, type ServerType } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { CommodoreError } from "../../lib/errors.ts";
import type { ListenAddress } from "../../config/schema.ts";
import type { HttpApp } from "./context.ts";

/** Longest a request may take before the socket is closed. */
export const REQUEST_TIMEOUT_MS = 120_000;
/** Longest the server waits for open connections when closing. */
const CLOSE_GRACE_MS = 2_000;

/** A listening server. */
export interface HttpServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

/** Starts listening; rejects with a clear error when the address is taken. */
export async function startHttpServer(app: HttpApp, listen: ListenAddress): Promise<HttpServer> {
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: listen.host, port: listen.port }, () =>
      resolve(s),
    );
    s.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new CommodoreError(
          "E_LISTEN",
          `cannot listen on ${listen.host}:${listen.port}: ${err.code ?? err.message}`,
          {
            hint: "set http.listen, COMMODORE_HTTP_LISTEN or PORT to a free address",
          },
        ),
      ),
    );
  });
  if ("requestTimeout" in server) server.requestTimeout = REQUEST_TIMEOUT_MS;
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host: listen.host,
    async close() {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          if ("closeAllConnections" in server) server.closeAllConnections();
        }, CLOSE_GRACE_MS);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        if ("closeIdleConnections" in server) server.closeIdleConnections();
      });
    },
  };
}
