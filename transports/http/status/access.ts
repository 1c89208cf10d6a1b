/**
 * Who is asking, and may they see this? The status page accepts the API's principals: a
 * bearer token, a browser session started with one, or — like the API — the anonymous
 * principal from `http.anonymousFrom`. Permissions are the bot's: a page is shown when the
 * policy would let the caller run the matching read command (`nodes`, `jobs`, `job <id>`).
 *
 * A job link signed by the bot is not a principal: whoever holds it (the link is posted in
 * chat channels) may read that one job — its page and event stream — and nothing else, for as
 * long as the principal the link was made for may still read the job. The holder acts as a
 * role-less viewer named `link:<job id>`, never as that principal.
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { PermissionDeniedError } from "../../../bot/commands/errors.ts";
import { parseCommand } from "../../../bot/commands/parse.ts";
import type { CommandRegistry } from "../../../bot/commands/registry.ts";
import { quoteWords } from "../../../bot/commands/tokenize.ts";
import type { ParsedCommand } from "../../../bot/commands/types.ts";
import type { Principal } from "../../../bot/contract.ts";
import {
  ANONYMOUS_ID,
  anonymousPrincipal,
  type PrincipalDirectory,
} from "../../../bot/identity/directory.ts";
import type { Policy } from "../../../bot/permissions/policy.ts";
import { remoteAddress } from "../auth.ts";
import type { TokenResolver } from "../tokens.ts";
import { readJobLink, verifyToken } from "./link.ts";

/** Cookie holding a browser session (path `/ui`). */
export const SESSION_COOKIE = "commodore_session";
/** Cookie holding an exchanged job link (path `/ui/jobs/<id>`). */
export const JOB_COOKIE = "commodore_job";

/** What {@link StatusAccess} needs. */
export interface StatusAccessDeps {
  /** The configured principals (sessions and job links name one by id). */
  readonly principals: PrincipalDirectory;
  /** Resolves API bearer tokens, as the API does. */
  readonly resolveToken: TokenResolver;
  readonly policy: Policy;
  readonly registry: CommandRegistry;
  readonly anonymousFrom: readonly string[];
  readonly secret: Buffer;
  readonly now: () => number;
}

/** What a job link grants: read of one job while its issuer may read it. */
export interface LinkGrant {
  /** The one job the link opens (its page and its event stream). */
  readonly jobId: string;
  /** The principal the bot made the link for; the job must stay visible to them. */
  readonly issuer: Principal;
}

/** Prefix of the viewer principal of a job link (principal ids cannot contain `:`). */
export const LINK_VIEWER_PREFIX = "link:";

/** The principal of a link caller: a role-less viewer carrying its grant. */
export interface LinkViewer extends Principal {
  readonly link: LinkGrant;
}

/** True when `p` is a job link's viewer (good for `p.link.jobId` only). */
export function isLinkViewer(p: Principal): p is LinkViewer {
  return "link" in p;
}

/** The caller, how they proved it, or why they could not. */
export type Caller =
  | { readonly ok: true; readonly principal: Principal; readonly via: CallerVia }
  | { readonly ok: false; readonly reason: "bad_token" | "bad_link" | "no_token" };

/** How a caller authenticated. */
export type CallerVia = "bearer" | "session" | "link" | "anonymous";

/** Resolves callers and checks permissions. */
export class StatusAccess {
  constructor(private readonly deps: StatusAccessDeps) {}

  private byId(id: string, display: string): Principal | undefined {
    const p = this.deps.principals.byId(id);
    if (p) return { ...p, display };
    return id === ANONYMOUS_ID ? anonymousPrincipal(display) : undefined;
  }

  /** The grant of a verified job link, whichever job it opens, or undefined. */
  fromLink(token: string): LinkGrant | undefined {
    const v = readJobLink(this.deps.secret, token, this.deps.now());
    const issuer = v && this.byId(v.principal, `link:${v.principal}`);
    return v && issuer ? { jobId: v.jobId, issuer } : undefined;
  }

  /** The caller a link makes: a role-less viewer of the link's job. */
  private linkCaller(link: LinkGrant): Caller {
    const principal: LinkViewer = {
      id: `${LINK_VIEWER_PREFIX}${link.jobId}`,
      roles: [],
      display: `link:${link.jobId} from ${link.issuer.id}`,
      link,
    };
    return { ok: true, principal, via: "link" };
  }

  /** The principal whose API token this is. */
  fromToken(token: string): Principal | undefined {
    return this.deps.resolveToken(token);
  }

  /**
   * Resolves the caller of a page (`jobId` for a job's page and stream). A job link (`?t=` or
   * the job cookie) for this job makes a link caller; a forged or expired `?t=` is refused. A
   * valid link for another job never lends rights: the session or anonymous access still
   * apply, and without them the result is a link caller the route must refuse (403).
   */
  caller(c: Context, jobId?: string): Caller {
    const header = c.req.header("authorization");
    if (header !== undefined) {
      const m = /^Bearer\s+(\S{1,512})\s*$/i.exec(header);
      const p = m?.[1] === undefined ? undefined : this.deps.resolveToken(m[1]);
      return p ? { ok: true, principal: p, via: "bearer" } : { ok: false, reason: "bad_token" };
    }
    const query = c.req.query("t");
    const fromQuery = query === undefined ? undefined : this.fromLink(query);
    if (query !== undefined && !fromQuery) return { ok: false, reason: "bad_link" };
    const cookie = getCookie(c, JOB_COOKIE);
    const link = fromQuery ?? (cookie === undefined ? undefined : this.fromLink(cookie));
    if (link && link.jobId === jobId) return this.linkCaller(link);
    const session = getCookie(c, SESSION_COOKIE);
    if (session !== undefined) {
      const v = verifyToken(this.deps.secret, "session", "", session, this.deps.now());
      const p = v && this.byId(v.principal, `session:${v.principal}`);
      if (p) return { ok: true, principal: p, via: "session" };
    }
    const address = remoteAddress(c);
    if (address !== undefined && this.deps.anonymousFrom.includes(address))
      return { ok: true, principal: anonymousPrincipal(`http:${address}`), via: "anonymous" };
    return link ? this.linkCaller(link) : { ok: false, reason: "no_token" };
  }

  /**
   * The command as the policy authorizes it for `principal` (pinned arguments and targets
   * applied), or the refusal message.
   */
  permit(principal: Principal, words: readonly string[]): ParsedCommand | string {
    const cmd = parseCommand(quoteWords([...words]), this.deps.registry);
    try {
      return this.deps.policy.authorize(principal, cmd, cmd.spec.risk(cmd));
    } catch (err) {
      if (err instanceof PermissionDeniedError) return err.message;
      throw err;
    }
  }
}
