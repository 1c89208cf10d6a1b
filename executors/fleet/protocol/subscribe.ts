/**
 * SUBSCRIBE only on a ready connection. ioredis writes SUBSCRIBE while a connection is still
 * in its handshake (the command carries Redis's `loading` flag); when its reply lands before
 * ioredis sends the INFO ready check, the connection is already in subscriber mode, INFO is
 * refused ("Connection in subscriber mode, only subscriber commands may be used"), ioredis
 * emits that as an `error` and drops the connection. Waiting for `ready` closes the race.
 */
import type { Redis } from "ioredis";
import { waitReady } from "../../../lib/redis.ts";

/** Subscribes `client` to `channel` once it is ready; `url` only names the server in errors. */
export async function subscribeWhenReady(
  client: Redis,
  channel: string,
  url: string,
): Promise<void> {
  if (client.status !== "ready") await waitReady(client, url);
  await client.subscribe(channel);
}
