/**
 * The one place that decides what a link to a job looks like. Transports that show only a
 * summary (IRC) point at it for the full output. A status page can replace
 * {@link jobLinks} (e.g. with `/ui/jobs/:id` links carrying a short-lived token) without
 * touching any transport.
 */
import { hostname } from "node:os";

/**
 * A link to a job's full output for the principal who asked, or undefined when the bot serves
 * none. Links are posted in chat channels, so a link must never act as that principal: the
 * status page's links grant read of that one job only, for as long as the principal may read
 * it (transports/http/status/access.ts); the principal is what they are checked against.
 */
export type JobLink = (jobId: string, principalId: string) => string | undefined;

/** Listen addresses that are not reachable addresses themselves. */
const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", "[::]"]);

/**
 * The base URL users reach the HTTP server at: `http.publicUrl` when configured, else derived
 * from the bound address (a wildcard address becomes this machine's host name).
 */
export function publicBaseUrl(
  configured: string | undefined,
  bound: { readonly host: string; readonly port: number } | undefined,
): string | undefined {
  if (configured !== undefined) return configured.replace(/\/+$/, "");
  if (bound === undefined) return undefined;
  const host = WILDCARD_HOSTS.has(bound.host) ? hostname() : bound.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${bound.port}`;
}

/** Links of the form `<base>/jobs/<id>` (the HTTP transport's `GET /jobs/:id`). */
export function jobLinks(baseUrl: string | undefined): JobLink {
  if (baseUrl === undefined) return () => undefined;
  return (jobId) => `${baseUrl}/jobs/${encodeURIComponent(jobId)}`;
}
