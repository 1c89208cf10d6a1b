/**
 * Who a voice caller is: the principal whose `principals[].voice` names the request's
 * application id and user id.
 */
import type { Principal } from "../../bot/contract.ts";
import type { PrincipalConfig, PrincipalDirectory } from "../../bot/identity/directory.ts";

/** A configured principal's voice fields (`principals[].voice`). */
export interface VoicePrincipalConfig extends PrincipalConfig {
  readonly voice?: { readonly applicationId: string; readonly userId: string } | undefined;
}

/** The assistant's ids of a caller. */
export interface VoiceCaller {
  readonly applicationId: string;
  readonly userId: string;
}

/** Maps a voice caller to a principal (shown as `voice:<id>`); undefined when unknown. */
export type VoicePrincipalResolver = (caller: VoiceCaller) => Principal | undefined;

/** Builds the resolver over `directory`. */
export function voicePrincipals(
  directory: PrincipalDirectory<VoicePrincipalConfig>,
): VoicePrincipalResolver {
  return ({ applicationId, userId }) =>
    directory.find(
      (e) => e.voice?.applicationId === applicationId && e.voice.userId === userId,
      (e) => `voice:${e.id}`,
    );
}
