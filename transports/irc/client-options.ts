/**
 * Maps validated {@link IrcOptions} onto irc-framework's connection options, resolving
 * secrets from the environment and reading the SASL EXTERNAL client certificate.
 *
 * irc-framework's own reconnect logic is switched off: {@link IrcConnection} runs its own
 * loop with capped, jittered backoff and rejoins channels itself.
 */
import { readFileSync } from "node:fs";
import type { ClientOptions } from "irc-framework";
import { OptionsError } from "../../lib/errors.ts";
import { resolveSecret, type IrcOptions } from "./options.ts";

/** CTCP VERSION reply. */
const CLIENT_VERSION = "Commodore chat-ops bot";

/** Reads a PEM file, naming the option when it cannot. */
function readPem(path: string, field: string, readFile: (p: string) => string): string {
  try {
    return readFile(path);
  } catch (err) {
    throw new OptionsError(
      `${field}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? "error"})`,
      `point ${field} at a readable PEM file`,
    );
  }
}

/** Builds irc-framework options. Throws {@link OptionsError} for missing secrets or files. */
export function clientOptions(
  options: IrcOptions,
  env: NodeJS.ProcessEnv = process.env,
  readFile: (path: string) => string = (p) => readFileSync(p, "utf8"),
): ClientOptions {
  const out: ClientOptions = {
    host: options.host,
    port: options.port,
    tls: options.tls.enabled,
    rejectUnauthorized: options.tls.rejectUnauthorized,
    nick: options.nick,
    username: options.username,
    gecos: options.realname,
    version: CLIENT_VERSION,
    auto_reconnect: false,
    ping_interval: options.ping.intervalSeconds,
    ping_timeout: options.ping.timeoutSeconds,
    // Lines are already split to maxLineBytes; never let irc-framework split them again.
    message_max_length: options.maxLineBytes,
    sasl_disconnect_on_fail: false,
  };
  const sasl = options.sasl;
  if (sasl?.mechanism === "PLAIN") {
    out.sasl_mechanism = "PLAIN";
    out.account = { account: sasl.account ?? "", password: resolveSecret(sasl, "irc.sasl", env) };
  } else if (sasl?.mechanism === "EXTERNAL") {
    if (!options.tls.enabled)
      throw new OptionsError(
        "irc.sasl: EXTERNAL authenticates with a TLS client certificate, but irc.tls.enabled is false",
        "set irc.tls.enabled: true or use mechanism PLAIN",
      );
    out.sasl_mechanism = "EXTERNAL";
    out.client_certificate = {
      certificate: readPem(sasl.clientCert ?? "", "irc.sasl.clientCert", readFile),
      private_key: readPem(sasl.clientKey ?? "", "irc.sasl.clientKey", readFile),
    };
  }
  return out;
}
