/**
 * The HTTP transport: the app plus its server, behind the Transport interface.
 */
import type { Transport } from "../../bot/transport.ts";
import type { ListenAddress } from "../../config/schema.ts";
import { createHttpApp } from "./app.ts";
import type { HttpDeps } from "./context.ts";
import { startHttpServer, type HttpServer } from "./server.ts";

/** HTTP as a transport; `port` is known after `start`. */
export class HttpTransport implements Transport {
  readonly name = "http";
  private server: HttpServer | undefined;

  constructor(
    private readonly deps: HttpDeps,
    private readonly listen: ListenAddress,
  ) {}

  /** The bound port once started. */
  get port(): number | undefined {
    return this.server?.port;
  }

  async start(): Promise<void> {
    if (this.server) return;
    this.server = await startHttpServer(createHttpApp(this.deps), this.listen);
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await s?.close();
  }
}
