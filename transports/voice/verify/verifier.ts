/**
 * Verifies one voice request, in this order: signature headers present, certificate URL
 * rules, certificate chain (cached until it expires), `Signature-256` over the raw body, the
 * envelope schema, the timestamp window and the application id. Only a request that passes
 * every check is parsed and returned.
 */
import type { X509Certificate } from "node:crypto";
import { describeSchemaError, voiceEnvelopeSchema } from "../request.ts";
import type { VoiceEnvelope } from "../request.ts";
import { CertCache } from "./cert-cache.ts";
import { checkCertUrl } from "./cert-url.ts";
import { verifyChain } from "./chain.ts";
import { VoiceVerifyError } from "./errors.ts";
import type { FetchCertChain } from "./fetch-chain.ts";
import { verifyBodySignature } from "./signature.ts";
import { checkTimestamp } from "./timestamp.ts";

/** Header naming the signing certificate chain. */
export const CERT_URL_HEADER = "SignatureCertChainUrl";
/** Header carrying the base64 RSA-SHA256 body signature. */
export const SIGNATURE_HEADER = "Signature-256";

/** What the verifier needs; everything with side effects is injected. */
export interface VerifierOptions {
  readonly roots: readonly X509Certificate[];
  readonly fetchCertChain: FetchCertChain;
  readonly now: () => number;
  readonly applicationIds: readonly string[];
  readonly toleranceSeconds: number;
  readonly cache?: CertCache;
}

/** The two signature headers as received (undefined when absent). */
export interface SignatureHeaders {
  readonly certUrl: string | undefined;
  readonly signature: string | undefined;
}

/** Verifies requests; holds the certificate cache. */
export type VoiceVerifier = (body: Uint8Array, headers: SignatureHeaders) => Promise<VoiceEnvelope>;

function parseBody(body: Uint8Array): VoiceEnvelope {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body).toString("utf8"));
  } catch {
    throw new VoiceVerifyError("E_VOICE_REQUEST", "the body is not JSON");
  }
  const parsed = voiceEnvelopeSchema.safeParse(json);
  if (!parsed.success)
    throw new VoiceVerifyError(
      "E_VOICE_REQUEST",
      `bad request field ${describeSchemaError(parsed.error)}`,
    );
  return parsed.data;
}

function checkApplication(env: VoiceEnvelope, allowed: readonly string[]): void {
  const ids = [env.context.System.application.applicationId];
  if (env.session !== undefined) ids.push(env.session.application.applicationId);
  if (!ids.every((appId) => allowed.includes(appId)))
    throw new VoiceVerifyError(
      "E_VOICE_APPLICATION",
      "the application id is not served by this endpoint",
      "add the skill's application id to voice.applicationIds",
    );
}

async function fetchChain(fetcher: FetchCertChain, url: string): Promise<string> {
  try {
    return await fetcher(url);
  } catch (err) {
    if (err instanceof VoiceVerifyError) throw err;
    throw new VoiceVerifyError("E_VOICE_CERT_FETCH", "the certificate chain could not be fetched");
  }
}

/** Creates a verifier. Throws {@link VoiceVerifyError} from the returned function on failure. */
export function createVoiceVerifier(options: VerifierOptions): VoiceVerifier {
  const cache = options.cache ?? new CertCache();
  return async (body, headers) => {
    if (headers.certUrl === undefined || headers.signature === undefined)
      throw new VoiceVerifyError(
        "E_VOICE_HEADERS",
        `missing ${headers.certUrl === undefined ? CERT_URL_HEADER : SIGNATURE_HEADER} header`,
      );
    const url = checkCertUrl(headers.certUrl);
    const chain = await cache.getOrLoad(url, options.now(), async () => {
      const pem = await fetchChain(options.fetchCertChain, url);
      return verifyChain(pem, options.roots, options.now());
    });
    verifyBodySignature(body, headers.signature, chain.leafKey);
    const env = parseBody(body);
    checkTimestamp(env.request.timestamp, options.now(), options.toleranceSeconds);
    checkApplication(env, options.applicationIds);
    return env;
  };
}
