import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { clientOptions } from "../../transports/irc/client-options.ts";
import { parseIrcOptions, resolveSecret } from "../../transports/irc/options.ts";
import { backoffDelay } from "../../lib/backoff.ts";
import { OptionsError } from "../../lib/errors.ts";

const base = { host: "irc.example.net" };

describe("irc options", () => {
  test("defaults are safe: TLS on and verified, 8 channel lines, burst 4 at 1 line/s", () => {
    const o = parseIrcOptions(base);
    assert.equal(o.port, 6697);
    assert.deepEqual(o.tls, { enabled: true, rejectUnauthorized: true });
    assert.equal(o.nick, "commodore");
    assert.equal(o.prefix, "!");
    assert.equal(o.maxChannelLines, 8);
    assert.equal(o.maxLineBytes, 400);
    assert.deepEqual(o.flood, { burst: 4, perSecond: 1, maxQueue: 500 });
    assert.equal(o.rejoinOnKick, true);
  });

  test("errors name the path and what was found", () => {
    assert.throws(
      () => parseIrcOptions({ ...base, port: "6667" }),
      (e: unknown) => e instanceof OptionsError && /^irc\.port: .*\(found string\)/.test(e.message),
    );
    assert.throws(
      () => parseIrcOptions({ ...base, channels: [{ name: "ops" }] }),
      /irc\.channels\.0\.name: must look like #channel/,
    );
    assert.throws(
      () => parseIrcOptions({ ...base, nick: "9lives" }),
      /irc\.nick: must be a valid IRC nickname/,
    );
    assert.throws(
      () => parseIrcOptions({ ...base, sasl: { mechanism: "PLAIN" } }),
      /irc\.sasl\.account: PLAIN needs an account/,
    );
    assert.throws(
      () => parseIrcOptions({ ...base, sasl: { mechanism: "EXTERNAL" } }),
      /irc\.sasl\.clientCert: EXTERNAL needs/,
    );
    assert.throws(
      () => parseIrcOptions({ ...base, nickserv: {} }),
      /irc\.nickserv\.passwordEnv: nickserv needs/,
    );
    assert.throws(() => parseIrcOptions({ ...base, bogus: 1 }), /irc: Unrecognized key/);
  });

  test("secrets come from the environment, with a hint when missing", () => {
    assert.equal(resolveSecret({ passwordEnv: "X" }, "irc.sasl", { X: "pw" }), "pw");
    assert.equal(resolveSecret({ password: "inline" }, "irc.sasl", {}), "inline");
    assert.throws(
      () => resolveSecret({ passwordEnv: "IRC_PW" }, "irc.sasl", {}),
      (e: unknown) =>
        e instanceof OptionsError && /IRC_PW/.test(e.message) && /export IRC_PW/.test(e.hint ?? ""),
    );
  });
});

describe("irc-framework options", () => {
  test("plain connection: own reconnect loop, no re-splitting", () => {
    const c = clientOptions(
      parseIrcOptions({ ...base, port: 6667, tls: { enabled: false }, nick: "bot" }),
    );
    assert.equal(c.tls, false);
    assert.equal(c.port, 6667);
    assert.equal(c.nick, "bot");
    assert.equal(c.auto_reconnect, false);
    assert.equal(c.message_max_length, 400);
    assert.equal(c.account, undefined);
    assert.equal(c.sasl_mechanism, undefined);
  });

  test("SASL PLAIN passes account and the password from the environment", () => {
    const o = parseIrcOptions({ ...base, sasl: { account: "commodore", passwordEnv: "SASL_PW" } });
    const c = clientOptions(o, { SASL_PW: "hunter2" });
    assert.equal(c.sasl_mechanism, "PLAIN");
    assert.deepEqual(c.account, { account: "commodore", password: "hunter2" });
    assert.equal(c.tls, true);
    assert.equal(c.rejectUnauthorized, true);
  });

  test("SASL EXTERNAL loads the client certificate and requires TLS", () => {
    const files: Record<string, string> = { "/etc/c.pem": "CERT", "/etc/k.pem": "KEY" };
    const read = (p: string) => {
      const f = files[p];
      if (f === undefined) throw Object.assign(new Error("nope"), { code: "ENOENT" });
      return f;
    };
    const sasl = { mechanism: "EXTERNAL", clientCert: "/etc/c.pem", clientKey: "/etc/k.pem" };
    const c = clientOptions(parseIrcOptions({ ...base, sasl }), {}, read);
    assert.equal(c.sasl_mechanism, "EXTERNAL");
    assert.deepEqual(c.client_certificate, { certificate: "CERT", private_key: "KEY" });
    assert.equal(c.account, undefined);
    assert.throws(
      () =>
        clientOptions(
          parseIrcOptions({ ...base, sasl: { ...sasl, clientKey: "/missing" } }),
          {},
          read,
        ),
      /irc\.sasl\.clientKey: cannot read \/missing \(ENOENT\)/,
    );
    assert.throws(
      () => clientOptions(parseIrcOptions({ ...base, tls: { enabled: false }, sasl }), {}, read),
      /EXTERNAL authenticates with a TLS client certificate/,
    );
  });
});

describe("backoffDelay", () => {
  test("stays between base and cap, growing with attempts", () => {
    const bounds = { baseMs: 100, capMs: 5_000 };
    assert.equal(
      backoffDelay(1, bounds, () => 1),
      200,
    );
    assert.equal(
      backoffDelay(3, bounds, () => 1),
      800,
    );
    assert.equal(
      backoffDelay(30, bounds, () => 1),
      5_000,
    );
    assert.equal(
      backoffDelay(30, bounds, () => 0),
      100,
    );
    for (let i = 1; i < 50; i++) {
      const d = backoffDelay(i, bounds);
      assert.ok(d >= 100 && d <= 5_000);
    }
  });
});
