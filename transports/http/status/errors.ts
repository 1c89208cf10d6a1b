/**
 * Error pages: 401 (with a form to start a session with an API token), 403 and 404; and the
 * same refusals for event streams and files in the API's JSON error shape
 * (`{"error": {"code", "message"}}`), since what reads those is a script, not a person.
 */
import type { Context } from "hono";
import { sendError } from "../errors.ts";
import { html } from "./html.ts";
import { sendPage } from "./layout.ts";

/** The challenge sent with every 401. */
const CHALLENGE = 'Bearer realm="commodore"';

/** How a route refuses a caller: as an HTML page or in the JSON error shape. */
export interface Refusals {
  /** 401: no or an invalid token, session or link. */
  unauthorized(c: Context, message: string): Response;
  /** 403: the caller may not see this. */
  forbidden(c: Context, who: string, message: string): Response;
  /** 404: no such job or page. */
  notFound(c: Context, message: string, who?: string): Response;
}

/** Paths a login may return to: status pages only, so the form cannot redirect elsewhere. */
export const SAFE_NEXT = /^\/ui(\/[A-Za-z0-9_/-]{0,200})?$/;

/** 401: nothing is shown without a token, a session or a valid job link. */
export function unauthorizedPage(c: Context, message: string): Response {
  const next = SAFE_NEXT.test(c.req.path) ? c.req.path : "/ui";
  c.header("WWW-Authenticate", CHALLENGE);
  return sendPage(
    c,
    401,
    { title: "sign in" },
    html`<section class="card narrow">
      <h1>Sign in</h1>
      <p class="error" id="auth-error">${message}</p>
      <p>Open the link the bot posted with your job, or sign in with your API token.</p>
      <form method="post" action="/ui/login" class="login">
        <input type="hidden" name="next" value="${next}" />
        <label>API token <input type="password" name="token" autocomplete="off" required /></label>
        <button type="submit">sign in</button>
      </form>
    </section>`,
  );
}

/** 403: signed in, but the policy does not allow this page. */
export function forbiddenPage(c: Context, who: string, message: string): Response {
  return sendPage(
    c,
    403,
    { title: "not allowed", who },
    html`<section class="card narrow">
      <h1>Not allowed</h1>
      <p class="error">${message}</p>
      <p>Ask an administrator for a role that grants it.</p>
    </section>`,
  );
}

/** 404 for unknown pages and jobs. */
export function notFoundPage(c: Context, message: string, who?: string): Response {
  return sendPage(
    c,
    404,
    who === undefined ? { title: "not found" } : { title: "not found", who },
    html`<section class="card narrow">
      <h1>Not found</h1>
      <p class="error">${message}</p>
      <p><a href="/ui/jobs">recent jobs</a></p>
    </section>`,
  );
}

/** Refusals of the pages a browser shows. */
export const PAGE_REFUSALS: Refusals = {
  unauthorized: unauthorizedPage,
  forbidden: forbiddenPage,
  notFound: notFoundPage,
};

/**
 * Refusals of event streams (`/ui/jobs/:id/events`, `/jobs/:id/events`) and static files:
 * 401 `E_UNAUTHORIZED` (with `WWW-Authenticate`), 403 `E_PERMISSION_DENIED`, 404
 * `E_NOT_FOUND`, with the messages the pages show.
 */
export const JSON_REFUSALS: Refusals = {
  unauthorized(c, message) {
    c.header("WWW-Authenticate", CHALLENGE);
    c.header("Cache-Control", "no-store");
    return sendError(c, "E_UNAUTHORIZED", message);
  },
  forbidden(c, _who, message) {
    c.header("Cache-Control", "no-store");
    return sendError(c, "E_PERMISSION_DENIED", message);
  },
  notFound(c, message) {
    c.header("Cache-Control", "no-store");
    return sendError(c, "E_NOT_FOUND", message);
  },
};
