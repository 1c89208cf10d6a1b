/** `ping`: proves the agent is alive, verifies requests and can sign replies. */
import { expectNoArgs, type Provider } from "./provider.ts";

/** Default execution timeout for ping. */
const PING_TIMEOUT_MS = 5_000;

/** The ping provider. */
export const pingProvider: Provider = {
  name: "ping",
  timeoutMs: PING_TIMEOUT_MS,
  quiet: true,
  async run(args) {
    expectNoArgs("ping", args);
    return { exit: 0, short: "pong", time: new Date().toISOString() };
  },
};
