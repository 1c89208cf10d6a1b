/**
 * A tiny HTTP client for callback tests that can present any 127.0.0.x source address
 * (`localAddress`), so the server sees a real peer address.
 */
import { request } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { HttpBindings } from "@hono/node-server";
import { Hono } from "hono";
import type { Context } from "hono";

/** A response: status and parsed JSON body. */
export interface Reply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** POSTs `body` to `url` from `from`. */
export async function post(
  url: string,
  from: string,
  body: string,
  headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" },
): Promise<Reply> {
  return await new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", localAddress: from, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => {
        try {
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(text) as Record<string, unknown>,
          });
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The peer address as @hono/node-server exposes it. */
export function nodeRemoteAddress(c: Context): string | undefined {
  return (c.env as HttpBindings | undefined)?.incoming.socket.remoteAddress;
}

/** Serves `routes` at `/provision/callback` on a free port; returns base URL and a closer. */
export async function serveCallback(
  routes: Hono,
): Promise<{ url: string; close: () => Promise<void> }> {
  const app = new Hono();
  app.route("/provision/callback", routes);
  return await new Promise((resolve) => {
    const server = serve(
      { fetch: app.fetch, port: 0, hostname: "127.0.0.1" },
      (info: AddressInfo) => {
        resolve({
          url: `http://127.0.0.1:${info.port}/provision/callback`,
          close: () => new Promise<void>((r) => server.close(() => r())),
        });
      },
    );
  });
}
