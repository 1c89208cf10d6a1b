/**
 * Who is asking, and may they see this? The status page accepts the API's principals: a
 * bearer token, a browser session started with one, a job link signed by the bot (only for
 * that job), or — like the API — the anonymous principal from `http.anonymousFrom`.
 * Permissions are the bot's: a page is shown when the policy would let the caller run the
 * matching read command (`nodes`, `jobs`, `job <id>`).
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { PermissionDeniedError } from "../../../bot/commands/errors.ts";
import { parseCommand } from "../../../bot/commands/parse.ts";
import type { CommandRegistry } from "../../../bot/commands/registry.ts";
import { quoteWords } from "../../../bot/commands/tokenize.ts";
import type { ParsedCommand } from "../../../bot/commands/types.ts";
import type { Principal } from "../../../bot/contract.ts";
import { ANONYMOUS_ID, anonymousPrincipal, type Identity } from "../../../bot/identity/identity.ts";
import type { Policy } from "../../../bot/permissions/policy.ts";
import { remoteAddress } from "../auth.ts";
import { verifyToken } from "./link.ts";

/** Cookie holding a browser session (path `/ui`). */
export const SESSION_COOKIE = "commodore_session";
/** Cookie holding an exchanged job link (path `/ui/jobs/<id>`). */
export const JOB_COOKIE = "commodore_job";

/** What {@link StatusAccess} needs. */
export interface StatusAccessDeps {
  readonly identity: Identity;
  readonly policy: Policy;
  readonly registry: CommandRegistry;
  readonly anonymousFrom: readonly string[];
  readonly secret: Buffer;
  readonly now: () => number;
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
    const p = this.deps.identity.byId(id);
    if (p) return { ...p, display };
    return id === ANONYMOUS_ID ? anonymousPrincipal(display) : undefined;
  }

  /** A principal named by a verified job link for `jobId`, or undefined. */
  fromLink(jobId: string, token: string): Principal | undefined {
    const v = verifyToken(this.deps.secret, "job", jobId, token, this.deps.now());
    return v && this.byId(v.principal, `link:${v.principal}`);
  }

  /** The principal whose API token this is. */
  fromToken(token: string): Principal | undefined {
    return this.deps.identity.fromHttpToken(token);
  }

  /** Resolves the caller; `jobId` enables job links and job cookies for that job. */
  caller(c: Context, jobId?: string): Caller {
    const header = c.req.header("authorization");
    if (header !== undefined) {
      const m = /^Bearer\s+(\S{1,512})\s*$/i.exec(header);
      const p = m?.[1] === undefined ? undefined : this.deps.identity.fromHttpToken(m[1]);
      return p ? { ok: true, principal: p, via: "bearer" } : { ok: false, reason: "bad_token" };
    }
    if (jobId !== undefined) {
      const link = c.req.query("t");
      if (link !== undefined) {
        const p = this.fromLink(jobId, link);
        return p ? { ok: true, principal: p, via: "link" } : { ok: false, reason: "bad_link" };
      }
      const cookie = getCookie(c, JOB_COOKIE);
      const p = cookie === undefined ? undefined : this.fromLink(jobId, cookie);
      if (p) return { ok: true, principal: p, via: "link" };
    }
    const session = getCookie(c, SESSION_COOKIE);
    if (session !== undefined) {
      const v = verifyToken(this.deps.secret, "session", "", session, this.deps.now());
      const p = v && this.byId(v.principal, `session:${v.principal}`);
      if (p) return { ok: true, principal: p, via: "session" };
    }
    const address = remoteAddress(c);
    if (address !== undefined && this.deps.anonymousFrom.includes(address))
      return { ok: true, principal: anonymousPrincipal(`http:${address}`), via: "anonymous" };
    return { ok: false, reason: "no_token" };
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
