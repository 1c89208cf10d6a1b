/** The default certificate fetcher against a real loopback HTTP server. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { Server } from "node:http";
import { createCertFetcher } from "../../transports/voice/verify/fetch-chain.ts";
import { VoiceVerifyError } from "../../transports/voice/verify/errors.ts";

const PEM = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";

describe("default certificate fetcher", () => {
  let server: Server;
  let base = "";
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === "/ok") res.end(PEM);
      else if (req.url === "/big") res.end("x".repeat(5_000));
      else if (req.url === "/redirect") res.writeHead(302, { location: "/ok" }).end();
      else if (req.url === "/hang") return;
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const addr = server.address();
    base = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const fetcher = createCertFetcher(200, 4_096);
  const fails = async (path: string, message: RegExp) =>
    await assert.rejects(
      fetcher(base + path),
      (err: unknown) =>
        err instanceof VoiceVerifyError &&
        err.code === "E_VOICE_CERT_FETCH" &&
        message.test(err.message),
    );

  test("returns the body of a 200 answer", async () => {
    assert.equal(await fetcher(`${base}/ok`), PEM);
  });

  test("refuses other statuses, redirects, oversized bodies and slow servers", async () => {
    await fails("/missing", /answered 404/);
    await fails("/redirect", /download failed/);
    await fails("/big", /larger than 4096 bytes/);
    await fails("/hang", /download failed: TimeoutError/);
  });
});
