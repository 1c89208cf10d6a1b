/**
 * One bot replica's IRC side for the lease tests: a Redis connection, and an IRC transport run
 * by {@link leaderTransport} only while this replica holds the `irc` lease. Its command
 * handler answers every command with `pong from <replica id>`, so a test sees who answered.
 */
import type { CommandHandler } from "../../bot/contract.ts";
import { leaderTransport, type LeaderTransport } from "../../app/leader-transport.ts";
import { silentLogger } from "../../lib/log.ts";
import { closeRedis, connectRedis } from "../../lib/redis.ts";
import { IrcTransport } from "../../transports/irc/irc-transport.ts";
import { parseIrcOptions } from "../../transports/irc/options.ts";

/** The channel and nick the replicas use. */
export const LEASE_CHANNEL = "#ops";
export const LEASE_NICK = "commodore";

/** What a replica needs. */
export interface IrcReplicaSpec {
  readonly id: string;
  readonly redisUrl: string;
  readonly ircHost: string;
  readonly ircPort: number;
}

/** A running replica. */
export interface IrcReplica {
  readonly leader: LeaderTransport;
  stop(): Promise<void>;
}

function pong(id: string): CommandHandler {
  return {
    async handle(invocation, sink) {
      sink({ type: "result", ok: true, result: { kind: "text", lines: [`pong from ${id}`] } });
      await Promise.resolve(invocation);
    },
  };
}

/** Starts contending for the lease. */
export function startIrcReplica(spec: IrcReplicaSpec): IrcReplica {
  const redis = connectRedis({
    url: spec.redisUrl,
    name: `replica-${spec.id}`,
    logger: silentLogger,
  });
  const leader = leaderTransport({
    redis,
    prefix: "commodore",
    name: "irc",
    lease: { ttlMs: 10_000, renewMs: 3_000 },
    logger: silentLogger,
    create: () =>
      new IrcTransport({
        options: parseIrcOptions({
          host: spec.ircHost,
          port: spec.ircPort,
          tls: { enabled: false },
          nick: LEASE_NICK,
          channels: [{ name: LEASE_CHANNEL }],
          reconnect: { baseMs: 100, capMs: 400 },
        }),
        handler: pong(spec.id),
        resolvePrincipal: (user) => ({ id: user.nick, roles: [], display: user.nick }),
        jobUrl: () => undefined,
        jobAccess: () => undefined,
      }),
  });
  leader.start();
  return {
    leader,
    async stop() {
      await leader.stop();
      await closeRedis(redis);
    },
  };
}
