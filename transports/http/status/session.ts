/**
 * `POST /ui/login` (form with an API token → a signed session cookie for `/ui`) and
 * `POST /ui/logout`. `next` may only point at a status page. Cross-origin requests never get
 * here (the HTTP app's origin check refuses them), and sign-in attempts are limited per
 * client address (`http.rateLimit.login`, in the HTTP app).
 */
import { deleteCookie, setCookie } from "hono/cookie";
import type { Counter } from "../../../lib/metrics.ts";
import type { HttpApp } from "../context.ts";
import { SESSION_COOKIE, type StatusAccess } from "./access.ts";
import { SAFE_NEXT, unauthorizedPage } from "./errors.ts";
import { securityHeaders } from "./layout.ts";
import { expiryFrom, MAX_TOKEN_LENGTH, signToken } from "./link.ts";
import type { StatusOptions } from "./options.ts";

/** What the session routes need. */
export interface SessionDeps {
  readonly access: StatusAccess;
  readonly options: StatusOptions;
  readonly secret: Buffer;
  readonly rejected: Counter;
  readonly now: () => number;
}

/** Registers sign in and sign out. */
export function sessionRoutes(app: HttpApp, deps: SessionDeps): void {
  const { options, rejected } = deps;
  const secure = options.publicUrl?.startsWith("https:") === true;

  app.post("/ui/login", async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form["token"] === "string" ? form["token"].trim() : "";
    const next =
      typeof form["next"] === "string" && SAFE_NEXT.test(form["next"]) ? form["next"] : "/ui";
    const p =
      token.length > 0 && token.length <= MAX_TOKEN_LENGTH
        ? deps.access.fromToken(token)
        : undefined;
    if (!p) {
      rejected.inc({ reason: "bad_token" });
      return unauthorizedPage(c, "That token is not valid.");
    }
    const expires = expiryFrom(deps.now(), options.sessionTtlSeconds);
    setCookie(c, SESSION_COOKIE, signToken(deps.secret, "session", "", p.id, expires), {
      path: "/ui",
      httpOnly: true,
      sameSite: "Strict",
      secure,
      maxAge: options.sessionTtlSeconds,
    });
    securityHeaders(c);
    return c.redirect(next, 303);
  });

  app.post("/ui/logout", (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: "/ui", secure });
    securityHeaders(c);
    return c.redirect("/ui", 303);
  });
}
