/**
 * DNS-rebinding protection: a request is served only when its `Host` header names this server.
 * A page on an attacker's domain that re-points its name at 127.0.0.1 still sends its own name
 * as `Host`, so it gets 421 (Misdirected Request) instead of the API's or the status page's data.
 *
 * Accepted hosts: IP addresses (a browser sends one only when the page itself came from that
 * address, which no DNS answer can change), `localhost`, the listen address when it is a name,
 * the host of `http.publicUrl`, and `http.allowedHosts` entries: a name, `.example.org` for
 * the domain and its subdomains, or `*` for any host (protection off). Ports are not compared:
 * rebinding changes what a name resolves to, never the port, and port forwarding (a
 * container's 8080 published as 9000) changes the port legitimately.
 */
import type { Context, MiddlewareHandler } from "hono";
import { isIP } from "node:net";
import { OptionsError } from "../../lib/errors.ts";
import type { Counter } from "../../lib/metrics.ts";
import { sendError } from "./errors.ts";

/** An `http.allowedHosts` entry: a DNS name, `.domain` (it and its subdomains) or `*`. */
export const ALLOWED_HOST_ENTRY =
  /^(\*|\.?[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*)$/;
/** The `allowedHosts` entry that turns the check off. */
const ANY_HOST = "*";
/** A `Host` header: a name, an IPv4 address or a bracketed IPv6 address, optionally a port. */
const HOST_HEADER = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:\d{1,5})?$/;
/** Listen addresses that accept connections on every interface. */
const WILDCARD_LISTEN = new Set(["0.0.0.0", "::"]);
/** Names every server answers to besides IP addresses. */
const LOOPBACK_NAME = "localhost";
/** Longest Host value repeated in an error message. */
const MAX_SHOWN = 100;

/** What the check accepts, from the `http` configuration. */
export interface HostCheckOptions {
  /** The host of `http.listen` (`127.0.0.1`, `0.0.0.0`, `::`, a name). */
  readonly listenHost: string;
  /** `http.publicUrl`, when configured. */
  readonly publicUrl?: string | undefined;
  /** `http.allowedHosts`. */
  readonly allowedHosts: readonly string[];
}

/** The lowercase host name of a `Host` header (IPv6 without brackets), or undefined. */
function hostName(header: string): string | undefined {
  const m = HOST_HEADER.exec(header);
  return m?.[1]?.replace(/^\[|\]$/g, "").toLowerCase();
}

/** Which `Host` headers name this server. */
export class HostPolicy {
  private readonly names = new Set<string>([LOOPBACK_NAME]);
  private readonly domains: string[] = [];
  /** True when `allowedHosts` has `*`: every host is accepted. */
  readonly open: boolean;
  /** True when the server listens on every interface (0.0.0.0 or ::). */
  readonly wildcardListen: boolean;

  /** Throws OptionsError for a malformed `allowedHosts` entry or `publicUrl`. */
  constructor(options: HostCheckOptions) {
    this.open = options.allowedHosts.includes(ANY_HOST);
    this.wildcardListen = WILDCARD_LISTEN.has(options.listenHost);
    if (!this.wildcardListen && isIP(options.listenHost) === 0)
      this.names.add(options.listenHost.toLowerCase());
    if (options.publicUrl !== undefined) {
      let host: string;
      try {
        host = new URL(options.publicUrl).hostname;
      } catch {
        throw new OptionsError(
          `http.publicUrl: expected an http(s) URL, found ${JSON.stringify(options.publicUrl)}`,
        );
      }
      this.names.add(host.replace(/^\[|\]$/g, "").toLowerCase());
    }
    options.allowedHosts.forEach((entry, i) => {
      if (!ALLOWED_HOST_ENTRY.test(entry))
        throw new OptionsError(
          `http.allowedHosts[${i}]: expected a host name such as ops.example.org, .example.org or *, found ${JSON.stringify(entry)}`,
        );
      if (entry === ANY_HOST) return;
      const name = entry.toLowerCase();
      if (name.startsWith(".")) this.domains.push(name);
      else this.names.add(name);
    });
  }

  /** True when `header` (a `Host` value) names this server. */
  allows(header: string): boolean {
    if (this.open) return true;
    const name = hostName(header);
    if (name === undefined) return false;
    if (isIP(name) !== 0 || this.names.has(name)) return true;
    return this.domains.some((d) => name === d.slice(1) || name.endsWith(d));
  }

  /** The accepted names, for the start-up log. */
  describe(): string {
    if (this.open) return "any host (http.allowedHosts has *)";
    return ["IP addresses", ...this.names, ...this.domains.map((d) => `*${d}`)].join(", ");
  }
}

/** The request's `Host` (the URL's host for in-process requests without one). */
export function requestHost(c: Context): string {
  return c.req.header("host") ?? new URL(c.req.url).host;
}

/** Answers 421 `E_UNKNOWN_HOST` to requests whose `Host` the policy does not accept. */
export function hostCheck(policy: HostPolicy, rejected: Counter): MiddlewareHandler {
  return async (c, next) => {
    const host = requestHost(c);
    if (policy.allows(host)) return next();
    rejected.inc({ reason: "unknown_host" });
    return sendError(
      c,
      "E_UNKNOWN_HOST",
      `Host ${JSON.stringify(host.slice(0, MAX_SHOWN))} is not a name this server answers to`,
      "use an address of this server, its http.publicUrl, or add the name to http.allowedHosts",
    );
  };
}
