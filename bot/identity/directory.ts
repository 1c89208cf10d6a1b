/**
 * The principal directory: who is configured, with which roles. It is transport-neutral; each
 * transport resolves its own callers into these principals (IRC accounts and masks in
 * transports/irc/principals.ts, HTTP bearer tokens in transports/http/tokens.ts, voice
 * application and user ids in transports/voice/principals.ts), reading its own fields of the
 * configured entries (`principals[].irc`, `.http`, `.voice`).
 */
import type { Principal } from "../contract.ts";

/** A configured principal as the core sees it; transports extend it with their own fields. */
export interface PrincipalConfig {
  readonly id: string;
  readonly roles: readonly string[];
}

/** Id of the principal for callers nobody configured (e.g. local HTTP in embedded mode). */
export const ANONYMOUS_ID = "anonymous";

/** The configured principals, in configuration order. */
export class PrincipalDirectory<C extends PrincipalConfig = PrincipalConfig> {
  constructor(
    /** Every configured entry, in configuration order (indices match `principals[i]`). */
    readonly entries: readonly C[],
  ) {}

  /** The first entry `match` accepts, as a principal shown as `display(entry)`. */
  find(match: (entry: C) => boolean, display: (entry: C) => string): Principal | undefined {
    const entry = this.entries.find(match);
    return entry && principalOf(entry, display(entry));
  }

  /** The principal with this id (sessions, job links, the CLI and tests). */
  byId(id: string): Principal | undefined {
    return this.find(
      (e) => e.id === id,
      () => id,
    );
  }
}

/** The principal a configured entry stands for, shown as `display` (audit, logs). */
export function principalOf(entry: PrincipalConfig, display: string): Principal {
  return { id: entry.id, roles: [...entry.roles], display };
}

/** An unconfigured caller: no roles of its own, only the configured default roles apply. */
export function anonymousPrincipal(display: string): Principal {
  return { id: ANONYMOUS_ID, roles: [], display };
}
