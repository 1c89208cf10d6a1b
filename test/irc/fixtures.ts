/**
 * Realistic fleet results and a scripted CommandHandler for IRC tests, standing in for the bot
 * core (the full-stack test with real agents replaces the handler, not these helpers).
 */
import type {
  BotEvent,
  BotSink,
  CommandHandler,
  Invocation,
  Principal,
} from "../../bot/contract.ts";
import type { FleetResult, HostResult } from "../../executors/fleet/types.ts";

/** An uptime line in the original's format. */
export function uptimeShort(days: number, load: string): string {
  return `09:42:57 up ${days} days, 11:25, 10 users, load average: ${load}`;
}

/** Builds a FleetResult whose summary is consistent with its hosts. */
export function fleetResult(
  provider: string,
  hosts: readonly HostResult[],
  extra: { noop?: number; durationMs?: number } = {},
): FleetResult {
  const count = (s: HostResult["status"]) => hosts.filter((h) => h.status === s).length;
  const expected = hosts.length;
  return {
    requestId: "5b4197bd-a537-4cc7-972f-d08ea5760feb",
    provider,
    args: [],
    where: {},
    hosts,
    summary: {
      expected,
      acked: expected - count("no_ack") - count("absent"),
      noop: extra.noop ?? 0,
      ok: count("ok"),
      failed: count("failed"),
      noAck: count("no_ack"),
      noResult: count("no_result"),
      unexpected: 0,
      ...(count("absent") > 0 ? { absent: count("absent") } : {}),
      ...(count("cancelled") > 0 ? { cancelled: count("cancelled") } : {}),
      durationMs: extra.durationMs ?? 1234,
    },
    replies: [],
  };
}

/** `n` hosts `www01..` that all answered `short`. */
export function okHosts(n: number, short: string, prefix = "www"): HostResult[] {
  return Array.from({ length: n }, (_, i) => ({
    hostname: `${prefix}${String(i + 1).padStart(2, "0")}`,
    status: "ok" as const,
    exit: 0,
    short,
  }));
}

/** Replays the progress events and result of a fleet job the way the bot would. */
export function fleetEvents(jobId: string, command: string, result: FleetResult): BotEvent[] {
  const expected = result.hosts.map((h) => h.hostname);
  const events: BotEvent[] = [
    { type: "accepted", jobId, command },
    {
      type: "fleet-progress",
      jobId,
      progress: { kind: "published", requestId: result.requestId, expected },
    },
  ];
  expected.forEach((hostname, i) =>
    events.push({
      type: "fleet-progress",
      jobId,
      progress: { kind: "ack", hostname, acked: i + 1, expected: expected.length },
    }),
  );
  result.hosts.forEach((host, i) =>
    events.push({
      type: "fleet-progress",
      jobId,
      progress: { kind: "host", result: host, done: i + 1, expected: expected.length },
    }),
  );
  events.push({
    type: "result",
    jobId,
    ok: result.summary.failed === 0,
    result: { kind: "fleet", fleet: result },
  });
  return events;
}

/** A CommandHandler answering from a script keyed by command text; records invocations. */
export class ScriptedHandler implements CommandHandler {
  readonly invocations: Invocation[] = [];
  constructor(private readonly script: (text: string, principal: Principal) => BotEvent[]) {}

  async handle(invocation: Invocation, sink: BotSink): Promise<void> {
    this.invocations.push(invocation);
    for (const event of this.script(invocation.text, invocation.principal)) {
      await new Promise((r) => setImmediate(r));
      sink(event);
    }
  }
}
