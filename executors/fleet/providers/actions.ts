/** The configured action providers (service, exec, pull, log) of an agent. */
import type { ActionProvidersConfig } from "./action-options.ts";
import { execProvider } from "./exec.ts";
import { logProvider } from "./log.ts";
import type { Provider } from "./provider.ts";
import { pullProvider } from "./pull.ts";
import { serviceProvider } from "./service.ts";

/** One provider per configured section; absent sections offer nothing. */
export function actionProviders(config: ActionProvidersConfig): Provider[] {
  const out: Provider[] = [];
  if (config.service) out.push(serviceProvider(config.service, config));
  if (config.exec) out.push(execProvider(config.exec, config));
  if (config.pull) out.push(pullProvider(config.pull, config));
  if (config.log) out.push(logProvider(config.log, config));
  return out;
}
