/**
 * One string for any topology, for command-line flags and `REDIS_URL`:
 *
 * - `redis://…` / `rediss://…`: one server;
 * - `unix://[user:pass@]/path/redis.sock`: one server on a unix socket (the embedded one);
 * - `sentinel://[user:pass@]host:port[,host:port…]/<master-name>`: a Sentinel-managed primary;
 * - `cluster://[user:pass@]host:port[,host:port…]`: a Redis Cluster.
 *
 * Credentials apply to the data nodes; the string is never logged with them.
 */
import { OptionsError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { redactUrlCredentials } from "../log.ts";
import { PERCENT_ENCODE_HINT, parseRedisUrl, parseUnixUrl } from "../redis.ts";
import type { RedisClient } from "./client.ts";
import type { HostPort, RedisTopologyConfig } from "./options.ts";
import { connectClient } from "./topology.ts";

const PASSWORD_ENV = "COMMODORE_REDIS_URL_PASSWORD";
const MAX_PORT = 65_535;
/** Credentials run to the last `@`, so a password holding a raw `@`, `/` or `:` stays whole. */
const SCHEME = /^(sentinel|cluster):\/\/(?:(.*)@)?([^@/]+?)(?:\/([^/@]*))?$/;

/** A URL split into topology settings and the credentials it carried. */
export interface ParsedTopologyUrl {
  readonly topology: RedisTopologyConfig;
  /** The single-server URL (single mode only). */
  readonly url?: string;
  /** Password found in the URL, passed through the environment to the connection. */
  readonly password?: string;
}

function bad(url: string, why: string): OptionsError {
  return new OptionsError(
    `redis URL ${redactUrlCredentials(url)}: ${why}`,
    `use redis://host:port, sentinel://host:port,host:port/mymaster or cluster://host:port,host:port${url.includes("@") ? `, with ${PERCENT_ENCODE_HINT}` : ""}`,
  );
}

function hosts(url: string, list: string): HostPort[] {
  return list.split(",").map((item) => {
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(item.trim());
    const port = Number(m?.[2]);
    if (!m?.[1] || port < 1 || port > MAX_PORT)
      throw bad(url, `expected host:port, found "${item}"`);
    return { host: m[1].replace(/^\[|\]$/g, ""), port };
  });
}

/** `user:password` (the password may hold `:`), percent-decoded. */
function splitCredentials(url: string, creds: string): [string, string] {
  const colon = creds.indexOf(":");
  const [user, pass] = colon < 0 ? [creds, ""] : [creds.slice(0, colon), creds.slice(colon + 1)];
  try {
    return [decodeURIComponent(user), decodeURIComponent(pass)];
  } catch {
    throw bad(url, "the credentials are not valid percent-encoding");
  }
}

/** Parses any supported Redis URL. */
export function parseTopologyUrl(url: string): ParsedTopologyUrl {
  const m = SCHEME.exec(url);
  if (!m) {
    if (parseUnixUrl(url) === undefined) parseRedisUrl(url);
    return { topology: { mode: "single" }, url };
  }
  const [, scheme, creds, list = "", name] = m;
  const [user, pass] = splitCredentials(url, creds ?? "");
  const nodes = hosts(url, list);
  const auth = {
    ...(user ? { username: user } : {}),
    ...(pass ? { passwordEnv: PASSWORD_ENV } : {}),
  };
  if (scheme === "cluster") {
    if (name) throw bad(url, "a cluster URL has no path");
    return {
      topology: { mode: "cluster", cluster: { nodes }, ...auth },
      ...(pass ? { password: pass } : {}),
    };
  }
  if (!name) throw bad(url, "expected the Sentinel master name as the path (/mymaster)");
  return {
    topology: { mode: "sentinel", sentinel: { name, nodes }, ...auth },
    ...(pass ? { password: pass } : {}),
  };
}

/** Opens a command client for any supported Redis URL (connecting in the background). */
export function connectUrl(o: { url: string; name: string; logger: Logger }): RedisClient {
  const parsed = parseTopologyUrl(o.url);
  return connectClient({
    topology: parsed.topology,
    url: parsed.url,
    name: o.name,
    logger: o.logger,
    env: parsed.password === undefined ? {} : { [PASSWORD_ENV]: parsed.password },
  });
}
