/**
 * The default certificate fetcher: HTTPS GET with a timeout, no redirects and a size cap.
 * Tests inject their own fetcher; this one is used only against the real assistant.
 */
import { VoiceVerifyError } from "./errors.ts";

/** Fetches the PEM chain at an already-checked URL. */
export type FetchCertChain = (url: string) => Promise<string>;

/** Give up on a certificate download after this long. */
export const CERT_FETCH_TIMEOUT_MS = 3_000;
/** Largest certificate chain accepted, in bytes. */
export const MAX_CERT_CHAIN_BYTES = 64 * 1024;

function fail(message: string): never {
  throw new VoiceVerifyError(
    "E_VOICE_CERT_FETCH",
    message,
    "check outbound HTTPS to s3.amazonaws.com",
  );
}

/** Creates a fetcher using global `fetch`. */
export function createCertFetcher(
  timeoutMs = CERT_FETCH_TIMEOUT_MS,
  maxBytes = MAX_CERT_CHAIN_BYTES,
): FetchCertChain {
  return async (url) => {
    let res: Response;
    try {
      res = await fetch(url, { redirect: "error", signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      fail(`certificate download failed: ${err instanceof Error ? err.name : "error"}`);
    }
    if (res.status !== 200 || res.body === null)
      fail(`certificate download answered ${res.status}`);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of res.body) {
      total += chunk.byteLength;
      if (total > maxBytes) fail(`certificate chain is larger than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString("utf8");
  };
}
