import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { leaseNotifier, type NoticeSink } from "../../bot/runtime/irc-notices.ts";
import { silentLogger } from "../../lib/log.ts";
import { MetricsRegistry } from "../../lib/metrics.ts";

const DROPPED = "commodore_provision_notices_dropped_total";

function sink(sent: string[], name: string): NoticeSink {
  return { notice: (channel, line) => sent.push(`${name} ${channel} ${line}`) };
}

describe("provisioning notices under the IRC lease", () => {
  test("each notice goes to the transport holding the lease at send time, else is counted", () => {
    const sent: string[] = [];
    const metrics = new MetricsRegistry();
    let current: NoticeSink | undefined = sink(sent, "first");
    const notifier = leaseNotifier({
      channels: ["#ops", "#prov"],
      current: () => current,
      logger: silentLogger,
      metrics,
    });
    notifier.notice("one");
    current = undefined; // lease lost: another replica (or nobody) holds it
    notifier.notice("two");
    current = sink(sent, "second"); // a new term on this replica
    notifier.notice("three");
    assert.deepEqual(sent, [
      "first #ops one",
      "first #prov one",
      "second #ops three",
      "second #prov three",
    ]);
    assert.equal(metrics.counter(DROPPED, "").get(), 1);
  });

  test("with no notice channels nothing is sent or counted", () => {
    const metrics = new MetricsRegistry();
    const notifier = leaseNotifier({
      channels: [],
      current: () => undefined,
      logger: silentLogger,
      metrics,
    });
    notifier.notice("quiet");
    assert.equal(metrics.counter(DROPPED, "").get(), 0);
  });
});
