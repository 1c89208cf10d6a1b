/** The SignatureCertChainUrl rules, case by case. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkCertUrl, removeDotSegments } from "../../transports/voice/verify/cert-url.ts";
import { VoiceVerifyError } from "../../transports/voice/verify/errors.ts";

const rejects = (url: string, reason: RegExp) =>
  assert.throws(
    () => checkCertUrl(url),
    (err: unknown) =>
      err instanceof VoiceVerifyError &&
      err.code === "E_VOICE_CERT_URL" &&
      reason.test(err.message),
    url,
  );

describe("certificate URL rules", () => {
  test("accepts the documented forms and returns the URL to fetch", () => {
    const cases: [string, string][] = [
      [
        "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
      ],
      [
        "https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
      ],
      ["HTTPS://S3.AmazonAWS.com/echo.api/x.pem", "https://s3.amazonaws.com/echo.api/x.pem"],
      [
        "https://s3.amazonaws.com/echo.api/../echo.api/x.pem",
        "https://s3.amazonaws.com/echo.api/x.pem",
      ],
      ["https://s3.amazonaws.com/echo.api/./x.pem", "https://s3.amazonaws.com/echo.api/x.pem"],
    ];
    for (const [raw, canonical] of cases) assert.equal(checkCertUrl(raw), canonical, raw);
  });

  test("rejects another scheme", () => {
    rejects("http://s3.amazonaws.com/echo.api/x.pem", /scheme/);
    rejects("ftp://s3.amazonaws.com/echo.api/x.pem", /scheme/);
  });

  test("rejects other hosts, look-alikes and user info", () => {
    rejects("https://notamazon.com/echo.api/x.pem", /host/);
    rejects("https://s3.amazonaws.com.evil.com/echo.api/x.pem", /host/);
    rejects("https://s3.amazonaws.com./echo.api/x.pem", /host/);
    rejects("https://evil.com@s3.amazonaws.com/echo.api/x.pem", /user info/);
    rejects("https://s3.amazonaws.com\\@evil.com/echo.api/x.pem", /'\\'/);
  });

  test("rejects ports other than 443", () => {
    rejects("https://s3.amazonaws.com:8443/echo.api/x.pem", /port/);
    rejects("https://s3.amazonaws.com:80/echo.api/x.pem", /port/);
    rejects("https://s3.amazonaws.com:/echo.api/x.pem", /malformed/);
  });

  test("rejects paths that leave /echo.api/ after dot-segment removal", () => {
    rejects("https://s3.amazonaws.com/echo.api/../x", /path/);
    rejects("https://s3.amazonaws.com/echo.api/./../x", /path/);
    rejects("https://s3.amazonaws.com/EcHo.aPi/x.pem", /path/);
    rejects("https://s3.amazonaws.com/invalid.path/x.pem", /path/);
    rejects("https://s3.amazonaws.com/echo.api/", /path/);
    rejects("https://s3.amazonaws.com", /path/);
  });

  test("rejects percent-encoded dot segments and slashes, queries and fragments", () => {
    rejects("https://s3.amazonaws.com/echo.api/%2e%2e/x", /percent/);
    rejects("https://s3.amazonaws.com/echo.api/.%2E/x", /percent/);
    rejects("https://s3.amazonaws.com/echo.api%2f..%2fx", /percent/);
    rejects("https://s3.amazonaws.com/echo.api/x.pem?y=1", /query/);
    rejects("https://s3.amazonaws.com/echo.api/x.pem#frag", /fragment/);
    rejects("https://s3.amazonaws.com/echo.api/x .pem", /whitespace/);
    rejects("", /length/);
  });

  test("removes dot segments per RFC 3986", () => {
    assert.equal(removeDotSegments("/a/b/c/./../../g"), "/a/g");
    assert.equal(removeDotSegments("/echo.api/../x"), "/x");
    assert.equal(removeDotSegments("/../../x"), "/x");
    assert.equal(removeDotSegments("/a/b/.."), "/a/");
    assert.equal(removeDotSegments("/a/."), "/a/");
  });
});
