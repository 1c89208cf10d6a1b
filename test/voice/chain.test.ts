/** Certificate chain checks and the certificate cache, against a test CA. */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { makeTestPki } from "../harness/test-ca.ts";
import type { TestPki } from "../harness/test-ca.ts";
import { CertCache } from "../../transports/voice/verify/cert-cache.ts";
import { verifyChain } from "../../transports/voice/verify/chain.ts";
import type { VerifiedChain } from "../../transports/voice/verify/chain.ts";
import { VoiceVerifyError } from "../../transports/voice/verify/errors.ts";
import { parseTrustStore } from "../../transports/voice/verify/trust-store.ts";

const NOW = Date.parse("2031-03-01T00:00:00Z");
const DAY = 86_400_000;
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g;

const fails = (fn: () => unknown, code: string) =>
  assert.throws(fn, (err: unknown) => err instanceof VoiceVerifyError && err.code === code);

describe("certificate chain", () => {
  let pki: TestPki;
  let roots: ReturnType<typeof parseTrustStore>;
  before(() => {
    pki = makeTestPki(NOW);
    roots = parseTrustStore(pki.trustedRootsPem);
  });

  test("a good chain verifies and expires with the leaf", () => {
    const chain = verifyChain(pki.chains.good, roots, NOW);
    assert.equal(chain.leafKey.asymmetricKeyType, "rsa");
    assert.ok(chain.notAfter > NOW && chain.notAfter <= NOW + 31 * DAY);
  });

  test("dates are checked against the injected clock", () => {
    fails(() => verifyChain(pki.chains.good, roots, NOW - 2 * DAY), "E_VOICE_CERT_DATES");
    fails(() => verifyChain(pki.chains.good, roots, NOW + 60 * DAY), "E_VOICE_CERT_DATES");
    fails(() => verifyChain(pki.chains.expired, roots, NOW), "E_VOICE_CERT_DATES");
  });

  test("a missing intermediate, reordered chain or empty chain does not verify", () => {
    const [leaf = "", inter = ""] = pki.chains.good.match(PEM_BLOCK) ?? [];
    fails(() => verifyChain(leaf, roots, NOW), "E_VOICE_CERT_CHAIN");
    fails(() => verifyChain(inter + leaf, roots, NOW), "E_VOICE_CERT_SAN");
    fails(() => verifyChain(leaf + leaf + inter, roots, NOW), "E_VOICE_CERT_CHAIN");
    fails(() => verifyChain("", roots, NOW), "E_VOICE_CERT_CHAIN");
    fails(() => verifyChain(pki.chains.good.repeat(5), roots, NOW), "E_VOICE_CERT_CHAIN");
  });

  test("the wrong SAN and an untrusted root are refused", () => {
    fails(() => verifyChain(pki.chains.wrongSan, roots, NOW), "E_VOICE_CERT_SAN");
    fails(() => verifyChain(pki.chains.untrusted, roots, NOW), "E_VOICE_CERT_CHAIN");
    fails(
      () => verifyChain(pki.chains.good, parseTrustStore(pki.chains.untrusted), NOW),
      "E_VOICE_CERT_CHAIN",
    );
  });
});

describe("certificate cache", () => {
  const chain = (notAfter: number): VerifiedChain => ({
    leafKey: {} as VerifiedChain["leafKey"],
    notBefore: 0,
    notAfter,
  });

  test("serves a chain until it expires, then loads again", async () => {
    const cache = new CertCache();
    let loads = 0;
    const load = async () => {
      loads += 1;
      return chain(1_000);
    };
    await cache.getOrLoad("u", 10, load);
    await cache.getOrLoad("u", 1_000, load);
    assert.equal(loads, 1);
    await cache.getOrLoad("u", 1_001, load);
    assert.equal(loads, 2);
  });

  test("concurrent misses share one load; the size is bounded", async () => {
    const cache = new CertCache(2);
    let loads = 0;
    const load = async () => {
      loads += 1;
      return chain(1_000);
    };
    await Promise.all([cache.getOrLoad("a", 0, load), cache.getOrLoad("a", 0, load)]);
    assert.equal(loads, 1);
    await cache.getOrLoad("b", 0, load);
    await cache.getOrLoad("c", 0, load);
    assert.equal(cache.size, 2);
    assert.equal(cache.get("a", 0), undefined);
  });

  test("a failed load is not cached", async () => {
    const cache = new CertCache();
    await assert.rejects(cache.getOrLoad("u", 0, () => Promise.reject(new Error("down"))));
    assert.equal(cache.size, 0);
    assert.ok(await cache.getOrLoad("u", 0, async () => chain(5)));
  });
});
