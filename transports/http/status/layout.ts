/**
 * The page shell and the headers every status page is sent with: a strict
 * Content-Security-Policy (scripts and styles only from /ui/static, no inline code), referrers
 * only to this site (a job link must not leak to others) and no caching.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { html, type SafeHtml } from "./html.ts";

/** The Content-Security-Policy of every page. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers for every HTML page and event stream. */
export function securityHeaders(c: Context): void {
  c.header("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  c.header("X-Content-Type-Options", "nosniff");
  c.header("Referrer-Policy", "same-origin");
  c.header("X-Frame-Options", "DENY");
  c.header("Cache-Control", "no-store");
}

/** What a page shows around its content. */
export interface PageOptions {
  readonly title: string;
  /** Who is looking, shown in the header. */
  readonly who?: string;
  /** Whether to offer "log out" (a session cookie is set). */
  readonly session?: boolean;
  /** Script files under /ui/static. */
  readonly scripts?: readonly string[];
}

/** A whole HTML document. */
export function renderPage(options: PageOptions, body: SafeHtml): string {
  const scripts = (options.scripts ?? []).map(
    (s) => html`<script src="/ui/static/${s}" defer></script>`,
  );
  const logout = options.session
    ? html`<form method="post" action="/ui/logout" class="logout">
        <button type="submit">log out</button>
      </form>`
    : undefined;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>${options.title} · commodore</title>
        <link rel="stylesheet" href="/ui/static/status.css" />
        ${scripts}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/ui">commodore</a>
          <nav><a href="/ui">fleet</a> <a href="/ui/jobs">jobs</a></nav>
          <span class="who">${options.who === undefined ? "" : `as ${options.who}`}</span>
          ${logout}
        </header>
        <main>${body}</main>
      </body>
    </html> `.value;
}

/** Sends a page with the security headers. */
export function sendPage(
  c: Context,
  status: ContentfulStatusCode,
  options: PageOptions,
  body: SafeHtml,
): Response {
  securityHeaders(c);
  return c.html(renderPage(options, body), status);
}
