/**
 * Error pages: 401 (with a form to start a session with an API token), 403 and 404.
 */
import type { Context } from "hono";
import { html } from "./html.ts";
import { sendPage } from "./layout.ts";

/** Paths a login may return to: status pages only, so the form cannot redirect elsewhere. */
export const SAFE_NEXT = /^\/ui(\/[A-Za-z0-9_/-]{0,200})?$/;

/** 401: nothing is shown without a token, a session or a valid job link. */
export function unauthorizedPage(c: Context, message: string): Response {
  const next = SAFE_NEXT.test(c.req.path) ? c.req.path : "/ui";
  c.header("WWW-Authenticate", 'Bearer realm="commodore"');
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
