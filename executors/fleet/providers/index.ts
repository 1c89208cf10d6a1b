/** The built-in providers and a helper to extend them. */
import { factsProvider } from "./facts.ts";
import { pingProvider } from "./ping.ts";
import type { Provider, ProviderRegistry } from "./provider.ts";
import { uptimeProvider } from "./uptime.ts";

/** A registry of the built-in providers plus `extra` (which may replace built-ins by name). */
export function providerRegistry(extra: readonly Provider[] = []): ProviderRegistry {
  const all = [pingProvider, uptimeProvider(), factsProvider(), ...extra];
  return new Map(all.map((p) => [p.name, p]));
}
